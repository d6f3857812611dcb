WITH sessions_per_day AS (
  SELECT
    sessions.campaign_id AS campaign_id,
    CAST(sessions.started_at AS DATE) AS day,
    COUNT(*) AS sessions,
    COUNT(*) FILTER(WHERE
      sessions.converted) AS converted_sessions
  FROM raw.sessions AS sessions
  GROUP BY ALL
)
SELECT
  c.campaign_id AS campaign_id,
  c.name AS campaign_name,
  c.channel AS channel,
  s.day AS day,
  s.impressions AS impressions,
  s.clicks AS clicks,
  s.spend AS spend,
  COALESCE(p.sessions, 0) AS sessions,
  COALESCE(p.converted_sessions, 0) AS converted_sessions,
  (
    SIGN(
      CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
    ) * (
      FLOOR(
        ABS(
          CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
        ) * 10000
      ) + CASE SIGN(
          ABS(
            CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
          ) * 10000 - FLOOR(
            ABS(
              CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
            ) * 10000
          ) - 0.5
        )
        WHEN 1
        THEN 1
        WHEN 0
        THEN CASE
          WHEN (
            (
              134217729 * ABS(
                CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
              ) - (
                134217729 * ABS(
                  CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
                ) - ABS(
                  CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
                )
              )
            ) * 10000 - ABS(
              CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
            ) * 10000
          ) + (
            ABS(
              CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
            ) - (
              134217729 * ABS(
                CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
              ) - (
                134217729 * ABS(
                  CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
                ) - ABS(
                  CAST(CAST(s.clicks AS DOUBLE) / CAST(NULLIF(s.impressions, 0) AS DOUBLE) AS DOUBLE)
                )
              )
            )
          ) * 10000 >= 0
          THEN 1
          ELSE 0
        END
        ELSE 0
      END
    ) / 10000
  ) AS ctr
FROM raw.campaigns AS c
JOIN raw.ad_spend AS s
  ON c.campaign_id = s.campaign_id
LEFT JOIN sessions_per_day AS p
  ON p.campaign_id = s.campaign_id AND p.day = s.day
