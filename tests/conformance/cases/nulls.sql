select id, i is null as x from raw.nums
select id, coalesce(i, 0) as x from raw.nums
select id, coalesce(d, n, 0) as x from raw.nums
select id, nullif(i, 1) as x from raw.nums
select id, ifnull(i, -1) as x from raw.nums
select id, i is distinct from 1 as x from raw.nums
select id, i is not distinct from null as x from raw.nums
select id, i = null as x from raw.nums
select id, i in (1, null) as x from raw.nums
select id, i not in (1, null) as x from raw.nums
select id, (i, b) > (1, 2) as x from raw.nums -- refused: row comparison -- rewrite: i > 1 or (i = 1 and b > 2), saying what NULL gives
select id, (i, b) = (1, 1) as x from raw.nums -- refused: row comparison -- rewrite: i = 1 and b = 1
select id, case when i > 1 then 'big' when i is null then 'none' else 'small' end as x from raw.nums
select id, case i when 1 then 'one' else 'other' end as x from raw.nums
select id, if(i > 1, 'y', 'n') as x from raw.nums
select id, iif(i > 1, 'y', 'n') as x from raw.nums
select id, not (i > 1) as x from raw.nums
select id, (i > 1) and (d > 0) as x from raw.nums
select id, (i > 1) or (d > 0) as x from raw.nums
select id, null::integer + i as x from raw.nums
select id, greatest(i, null) as x from raw.nums
select id, least(d, null, 1) as x from raw.nums
select id, coalesce(s, '') = '' as x from raw.strs
select id, i is true as x from raw.nums where i in (0, 1) or i is null
select id, nvl(i, 5) as x from raw.nums
select id, count(*) filter (where i is null) over () as x from raw.nums
