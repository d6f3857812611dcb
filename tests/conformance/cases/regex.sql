select id, regexp_matches(s, 'a.') as x from raw.strs
select id, regexp_matches(s, '^[a-z]+$') as x from raw.strs
select id, regexp_matches(s, '\w+ \w+') as x from raw.strs
select id, regexp_matches(s, '\d') as x from raw.strs
select id, regexp_replace(s, 'a', 'X') as x from raw.strs
select id, regexp_replace(s, 'a', 'X', 'g') as x from raw.strs
select id, regexp_replace(s, '\s+', ' ', 'g') as x from raw.strs
select id, regexp_replace(s, '(\w)(\w)', '\2\1') as x from raw.strs
select id, regexp_extract(s, '[a-z]+') as x from raw.strs
select id, regexp_extract(s, '([a-z])([a-z])', 2) as x from raw.strs
select id, s ~ 'l+' as x from raw.strs
select id, regexp_matches(s, 'HELLO', 'i') as x from raw.strs
select id, regexp_full_match(s, '[a-z]+') as x from raw.strs
select id, s similar to 'h%' as x from raw.strs
select id, regexp_split_to_array(s, ',') as x from raw.strs
select id, regexp_matches(s, '^.{5}$') as x from raw.strs
select id, regexp_replace(s, '[^a-z]', '', 'g') as x from raw.strs
select id, regexp_matches(s, '[[:upper:]]') as x from raw.strs
select id, regexp_count(s, 'a') as x from raw.strs
select id, s glob 'h*' as x from raw.strs
