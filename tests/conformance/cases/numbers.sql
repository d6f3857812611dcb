select id, i + 1 as x from raw.nums
select id, i - b as x from raw.nums where id <> 6
select id, i * 3 as x from raw.nums
select id, i / 2 as x from raw.nums
select id, i // 2 as x from raw.nums
select id, i % 3 as x from raw.nums
select id, -i as x from raw.nums
select id, abs(i) as x from raw.nums
select id, round(d) as x from raw.nums where id <> 8
select id, round(d, 1) as x from raw.nums where id <> 8
select id, round(d, 2) as x from raw.nums where id <> 8
select id, round(n, 1) as x from raw.nums
select id, round(m, 2) as x from raw.nums
select id, round(n) as x from raw.nums
select id, round(i / 4, 1) as x from raw.nums
select id, round(n / i, 2) as x from raw.nums where i <> 0
select id, n / 3 as x from raw.nums
select id, m / n as x from raw.nums where n <> 0
select id, n * m as x from raw.nums
select id, n + m as x from raw.nums
select id, floor(d) as x from raw.nums where id <> 8
select id, ceil(d) as x from raw.nums where id <> 8
select id, floor(n) as x from raw.nums
select id, ceil(n) as x from raw.nums
select id, trunc(d) as x from raw.nums where id <> 8
select id, sign(i) as x from raw.nums
select id, sqrt(abs(d)) as x from raw.nums where id <> 8
select id, power(i, 2) as x from raw.nums
select id, i ** 2 as x from raw.nums
select id, ln(abs(d) + 1) as x from raw.nums where id <> 8
select id, log10(abs(i) + 1) as x from raw.nums
select id, exp(i) as x from raw.nums
select id, greatest(i, 2) as x from raw.nums
select id, least(i, 2, b) as x from raw.nums
select id, cast(d as integer) as x from raw.nums where id <> 8
select id, cast(n as integer) as x from raw.nums
select id, cast(i as double) / 3 as x from raw.nums
select id, b % 10 as x from raw.nums
select id, b // 7 as x from raw.nums
select id, d * 2 as x from raw.nums
select id, 7 / 2 as x from raw.nums
select id, 7 // 2 as x from raw.nums
select id, -7 // 2 as x from raw.nums
select id, -7 % 3 as x from raw.nums
select id, 1.5 + i as x from raw.nums
select id, i::decimal(10, 3) / 7 as x from raw.nums
select id, gcd(i, 4) as x from raw.nums
select id, i & 3 as x from raw.nums
select id, i | 8 as x from raw.nums
select id, i << 2 as x from raw.nums where i >= 0
select id, isnan(d) as x from raw.nums
select id, pi() * i as x from raw.nums
select id, round(d * 100) / 100 as x from raw.nums where id <> 8
select id, i between 0 and 3 as x from raw.nums
select id, cbrt(i) as x from raw.nums
select id, factorial(abs(i) % 6) as x from raw.nums
select id, round(m, -1) as x from raw.nums
select id, round(d, -1) as x from raw.nums where id <> 8
select round(d, 2) as x, count(*) as n from raw.nums where id <> 8 group by all
select k, round(sum(v) / 8.0, 2) as x from raw.pairs group by k
select id, round(sum(v) over (order by id) / 8.0, 2) as x from raw.pairs
select id, round(-d, 2) as x from raw.nums where id <> 8
select id, round(d * 3, 3) as x from raw.nums where id <> 8
select id, 7 // 2 as x, -7 // 2 as y from raw.nums
