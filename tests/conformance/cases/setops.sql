select k from raw.pairs union select s from raw.strs
select k from raw.pairs union all select s from raw.strs
select v from raw.pairs intersect select i from raw.nums
select v from raw.pairs except select i from raw.nums
select v from raw.pairs except all select i from raw.nums
select id, k as x from raw.pairs union all by name select v as id, k as x from raw.pairs
select 1 as a, 'x' as b union all select 2, 'y'
select distinct k as x from raw.pairs
select distinct on (k) k, v from raw.pairs order by k, id
(select id from raw.pairs order by id limit 2) union all (select id from raw.nums order by id desc limit 1)
select v as x from raw.pairs intersect all select v from raw.pairs
select * from (values (1, 'a'), (2, 'b')) as t(n, c)
select id from raw.pairs order by id limit 3 offset 2
select k, v from raw.pairs order by all
select k, v from raw.pairs order by k nulls first, v desc
