select id, d + 1 as x from raw.times
select id, d - 1 as x from raw.times
select id, d + interval 1 month as x from raw.times
select id, d + interval 1 year as x from raw.times
select id, ts + interval 1 hour as x from raw.times
select id, ts - interval 30 minute as x from raw.times
select id, date_trunc('month', d) as x from raw.times
select id, date_trunc('week', d) as x from raw.times
select id, date_trunc('quarter', d) as x from raw.times
select id, date_trunc('day', ts) as x from raw.times
select id, date_trunc('hour', ts) as x from raw.times
select id, extract(year from d) as x from raw.times
select id, extract(month from d) as x from raw.times
select id, extract(dow from d) as x from raw.times
select id, extract(isodow from d) as x from raw.times
select id, extract(doy from d) as x from raw.times
select id, extract(week from d) as x from raw.times
select id, extract(epoch from ts) as x from raw.times
select id, extract(hour from ts) as x from raw.times
select id, extract(second from ts) as x from raw.times
select id, year(d) as x from raw.times
select id, month(d) as x from raw.times
select id, day(d) as x from raw.times
select id, dayofweek(d) as x from raw.times
select id, dayofyear(d) as x from raw.times
select id, quarter(d) as x from raw.times
select id, week(d) as x from raw.times
select id, hour(ts) as x from raw.times
select id, minute(ts) as x from raw.times
select id, date_part('year', d) as x from raw.times
select id, datepart('month', ts) as x from raw.times
select id, date_diff('day', d, date '2024-06-01') as x from raw.times
select id, date_diff('month', d, date '2024-06-01') as x from raw.times
select id, date_diff('year', d, date '2024-06-01') as x from raw.times
select id, date_diff('week', d, date '2024-06-01') as x from raw.times
select id, date_diff('hour', ts, timestamp '2024-06-01 00:00:00') as x from raw.times
select id, datediff('day', d, date '2024-06-01') as x from raw.times
select id, date '2024-06-01' - d as x from raw.times
select id, ts - timestamp '2024-01-01 00:00:00' as x from raw.times
select id, age(timestamp '2024-06-01 00:00:00', ts) as x from raw.times -- refused: age() -- rewrite: date_diff('day', a, b)
select id, last_day(d) as x from raw.times
select id, dayname(d) as x from raw.times
select id, monthname(d) as x from raw.times
select id, strftime(d, '%Y-%m-%d') as x from raw.times
select id, strftime(ts, '%Y-%m-%d %H:%M:%S') as x from raw.times
select id, strftime(d, '%d/%m/%Y') as x from raw.times
select id, strftime(d, '%W') as x from raw.times -- refused: strftime code %W -- rewrite: extract(week ...) (ISO weeks) or a calendar table
select id, strftime(d, '%u') as x from raw.times
select id, strftime(d, '%j') as x from raw.times
select id, strftime(ts, '%I:%M %p') as x from raw.times
select id, strftime(d, '%A %B') as x from raw.times
select id, strptime('2024-03-10 02:30:00', '%Y-%m-%d %H:%M:%S') as x from raw.times
select id, strptime('31/01/2023', '%d/%m/%Y') as x from raw.times
select id, cast(ts as date) as x from raw.times
select id, cast(d as timestamp) as x from raw.times
select id, make_date(2024, 2, 29) as x from raw.times
select id, make_timestamp(2024, 3, 10, 2, 30, 0) as x from raw.times
select id, epoch_ms(1710037800000) as x from raw.times
select id, to_timestamp(1710037800) as x from raw.times
select id, epoch(ts) as x from raw.times
select id, d < date '2024-01-01' as x from raw.times
select id, ts::date = d as x from raw.times
select id, date_add(d, interval 3 day) as x from raw.times
select id, d + interval 1 month - interval 1 day as x from raw.times
select id, isodow(d) as x from raw.times
select id, yearweek(d) as x from raw.times
select id, date_trunc('year', ts) as x from raw.times
select id, make_time(12, 30, 0) as x from raw.times
select id, ts::time as x from raw.times
select id, d - interval 1 day as x from raw.times
select id, interval 1 day / 2 as x from raw.times
