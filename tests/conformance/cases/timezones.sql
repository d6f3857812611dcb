select id, tz as x from raw.times
select id, cast(tz as timestamp) as x from raw.times
select id, cast(tz as date) as x from raw.times
select id, cast(ts as timestamptz) as x from raw.times
select id, tz at time zone 'America/New_York' as x from raw.times
select id, ts at time zone 'UTC' as x from raw.times
select id, timezone('Europe/Paris', tz) as x from raw.times
select id, extract(hour from tz) as x from raw.times
select id, date_trunc('day', tz) as x from raw.times
select id, tz + interval 1 day as x from raw.times
select id, epoch(tz) as x from raw.times
select id, strftime(tz, '%Y-%m-%d %H:%M') as x from raw.times
select id, tz < timestamptz '2024-03-10 07:30:00+00' as x from raw.times
select id, current_date >= d as x from raw.times
select id, now() > ts as x from raw.times
select id, cast(tz as varchar) as x from raw.times
