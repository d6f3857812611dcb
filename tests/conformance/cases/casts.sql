select id, cast(i as varchar) as x from raw.nums
select id, cast(d as varchar) as x from raw.nums -- refused: a cast of a DOUBLE to text -- rewrite: cast to decimal(p, s) first
select id, cast(n as varchar) as x from raw.nums
select id, cast(b as varchar) as x from raw.nums
select id, cast(i as double) as x from raw.nums
select id, cast(n as double) as x from raw.nums
select id, cast(d as decimal(10, 2)) as x from raw.nums where id <> 8
select id, cast(m as decimal(10, 1)) as x from raw.nums
select id, cast(i as bigint) as x from raw.nums
select id, cast(i as boolean) as x from raw.nums
select id, cast(i as smallint) as x from raw.nums
select id, try_cast(s as integer) as x from raw.strs -- refused: try_cast -- rewrite: case when s ~ '^-?[0-9]+$' then cast(s as integer) end
select id, cast('42' as integer) + i as x from raw.nums
select id, cast('2024-02-29' as date) as x from raw.times
select id, cast(d as varchar) as x from raw.times
select id, cast(ts as varchar) as x from raw.times
select id, i::text as x from raw.nums
select id, cast(id as varchar) || s as x from raw.strs
select id, cast(true as integer) + i as x from raw.nums
select id, cast('1.5' as decimal(4, 1)) * i as x from raw.nums
select id, cast(d as float) as x from raw.nums where id <> 8
select id, cast(d as real) as x from raw.nums where id <> 8
select id, cast(n as integer) as x from raw.nums
select id, cast(-2.5 as integer) as x from raw.nums
select id, cast(2.5 as integer) as x from raw.nums
select id, cast(l as varchar) as x from raw.lists -- refused: a cast of a list -- rewrite: array_to_string(l, ', ')
select id, cast(i as hugeint) as x from raw.nums
select id, cast(i as ubigint) as x from raw.nums where i >= 0 -- refused: a cast to UBIGINT -- rewrite: cast to bigint or decimal(20, 0)
select id, typeof(i) as x from raw.nums -- refused: typeof() -- rewrite: compare values, not type names
select id, cast(s as blob) as x from raw.strs where id in (1, 2, 3)
