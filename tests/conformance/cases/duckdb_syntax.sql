select * exclude (p) from raw.strs
select * replace (upper(s) as s) from raw.strs
select columns('^[ik]') from raw.pairs -- refused: COLUMNS(...) -- rewrite: list the columns
from raw.pairs select id, k
from raw.pairs
select id, k from raw.pairs using sample 100% -- refused: USING SAMPLE -- rewrite: filter on a hash of a key
select id, v // 2 as x from raw.pairs
select id, k, sum(v) over (partition by k) as x from raw.pairs
select k, count(*) as x from raw.pairs group by 1
select k, count(*) as x from raw.pairs group by k order by 2 desc, 1
select id as x from raw.pairs where id in (select unnest([1, 2]))
select id, v from raw.pairs limit 10% -- refused: LIMIT n% -- rewrite: row_number() and count(*) over () in a subquery
select 42 as answer
select id, 'it''s' as x from raw.pairs
select id, e'tab\there' as x from raw.pairs
select id, x from raw.pairs, (select 1 as x) t
select id, k from raw.pairs order by k collate nocase, id -- refused: COLLATE -- rewrite: order by lower(x)
