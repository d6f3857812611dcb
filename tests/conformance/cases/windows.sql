select id, row_number() over (order by id) as x from raw.pairs
select id, rank() over (order by v) as x from raw.pairs
select id, dense_rank() over (order by v) as x from raw.pairs
select id, row_number() over (partition by k order by v, id) as x from raw.pairs
select id, sum(v) over (partition by k) as x from raw.pairs
select id, sum(v) over (order by id) as x from raw.pairs
select id, sum(v) over (order by id rows between 1 preceding and current row) as x from raw.pairs
select id, avg(v) over (order by id rows between unbounded preceding and current row) as x from raw.pairs
select id, lag(v) over (order by id) as x from raw.pairs
select id, lag(v, 2) over (order by id) as x from raw.pairs
select id, lag(v, 1, 0) over (order by id) as x from raw.pairs
select id, lag(v, 1, 0.5) over (order by id) as x from raw.pairs
select id, lead(v) over (order by id) as x from raw.pairs
select id, first_value(v) over (partition by k order by id) as x from raw.pairs
select id, last_value(v) over (partition by k order by id rows between unbounded preceding and unbounded following) as x from raw.pairs
select id, nth_value(v, 2) over (order by id rows between unbounded preceding and unbounded following) as x from raw.pairs
select id, ntile(3) over (order by id) as x from raw.pairs
select id, percent_rank() over (order by id) as x from raw.pairs
select id, cume_dist() over (order by id) as x from raw.pairs
select id, count(*) over (partition by k) as x from raw.pairs
select id, max(v) over (partition by k order by id range between unbounded preceding and current row) as x from raw.pairs
select id, row_number() over w as x from raw.pairs window w as (order by id)
select id, v from raw.pairs qualify row_number() over (partition by k order by id) = 1
select id, sum(v) over (order by v nulls first, id) as x from raw.pairs
select id, rank() over (order by v desc nulls last) as x from raw.pairs
select id, lag(v ignore nulls) over (order by id) as x from raw.pairs -- refused: IGNORE NULLS -- rewrite: a running max of a row number where v is not null, then a self-join
select id, sum(v) over (partition by k order by id) - v as x from raw.pairs
select id, first_value(v ignore nulls) over (order by id) as x from raw.pairs -- refused: IGNORE NULLS -- rewrite: first_value over a frame filtered with a subquery
