select count(*) as n from raw.nums
select count(i) as n from raw.nums
select count(distinct k) as n from raw.pairs
select sum(i) as x from raw.nums
select sum(b) as x from raw.nums
select sum(n) as x from raw.nums
select sum(d) as x from raw.nums where id <> 8
select avg(i) as x from raw.nums
select avg(n) as x from raw.nums
select round(avg(n), 2) as x from raw.nums
select min(s) as a, max(s) as b from raw.strs
select min(d) as a, max(d) as b from raw.nums
select min(ts) as a, max(ts) as b from raw.times
select k, sum(v) as x from raw.pairs group by k
select k, count(*) as x from raw.pairs group by all
select k, sum(v) as x from raw.pairs group by k having sum(v) > 2
select k, string_agg(cast(v as varchar), ',' order by v) as x from raw.pairs group by k
select k, list(v order by v) as x from raw.pairs group by k
select k, array_agg(v order by id) as x from raw.pairs group by k
select k, arg_max(id, v) as x from raw.pairs where v is not null group by k
select k, arg_min(id, v) as x from raw.pairs where v is not null group by k
select k, max_by(id, v) as x from raw.pairs where v is not null group by k
select k, bool_and(v > 1) as x from raw.pairs group by k
select k, bool_or(v > 2) as x from raw.pairs group by k
select k, count(*) filter (where v > 1) as x from raw.pairs group by k
select stddev_samp(i) as x from raw.nums -- ulp
select var_pop(i) as x from raw.nums -- ulp
select median(i) as x from raw.nums
select quantile_cont(i, 0.5) as x from raw.nums
select quantile_disc(i, 0.5) as x from raw.nums
select mode(v) as x from raw.pairs
select approx_count_distinct(k) as x from raw.pairs -- refused: approx_count_distinct() -- rewrite: count(distinct x)
select k, first(v order by id) as x from raw.pairs group by k
select k, any_value(k) as x from raw.pairs group by k
select product(v) as x from raw.pairs -- refused: product() -- rewrite: exp(sum(ln(x))) for positive x
select bit_or(v) as x from raw.pairs
select count(distinct (k, v)) as x from raw.pairs
select k, max(v) - min(v) as x from raw.pairs group by k
select sum(v) / count(*) as x from raw.pairs
select k, avg(v) as x from raw.pairs group by rollup (k)
select k, v, count(*) as x from raw.pairs group by grouping sets ((k), (v))
select sum(i) filter (where i > 0) as x from raw.nums
select corr(i, d) as x from raw.nums where id <> 8 -- ulp
select k, histogram(v) is not null as x from raw.pairs group by k -- refused: histogram() -- rewrite: group by the value, count(*)
select k, string_agg(distinct k, ',') as x from raw.pairs group by k
select count(*) as x from raw.nums having count(*) > 1
