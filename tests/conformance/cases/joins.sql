select p.id, n.d from raw.pairs p join raw.nums n on p.v = n.i
select p.id, n.d from raw.pairs p left join raw.nums n on p.v = n.i
select p.id, n.id as nid from raw.pairs p full join raw.nums n on p.v = n.i
select p.id, n.id as nid from raw.pairs p cross join raw.nums n where n.id < 3
select id, d from raw.pairs join raw.nums using (id)
select * from raw.pairs natural join raw.nums
select p.id from raw.pairs p where exists (select 1 from raw.nums n where n.i = p.v)
select p.id from raw.pairs p where p.v in (select i from raw.nums)
select p.id, (select max(n.d) from raw.nums n where n.i <= p.v) as x from raw.pairs p
select p.id, x.m from raw.pairs p, lateral (select max(i) as m from raw.nums n where n.i < p.v) x
select p.id from raw.pairs p semi join raw.nums n on n.i = p.v
select p.id from raw.pairs p anti join raw.nums n on n.i = p.v
select p.id, n.id as nid from raw.pairs p asof join raw.nums n on p.id >= n.id -- refused: ASOF JOIN -- rewrite: a lateral subquery with order by ... limit 1
select p.id, n.id as nid from raw.pairs p positional join raw.nums n -- refused: POSITIONAL JOIN -- rewrite: join both sides on row_number() over ()
select p.id, q.id as qid from raw.pairs p join raw.pairs q on p.k = q.k and p.id < q.id
with t as (select k, sum(v) as s from raw.pairs group by k) select p.id, t.s from raw.pairs p join t using (k)
with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select n from r
select a.id from raw.pairs a join raw.pairs b on a.v is not distinct from b.v and a.id = b.id
