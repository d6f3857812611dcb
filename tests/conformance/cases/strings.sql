select id, length(s) as x from raw.strs
select id, strlen(s) as x from raw.strs
select id, upper(s) as x from raw.strs
select id, lower(s) as x from raw.strs
select id, s || '!' as x from raw.strs
select id, concat(s, '-', p) as x from raw.strs
select id, concat_ws('/', s, p) as x from raw.strs
select id, substring(s, 2, 3) as x from raw.strs
select id, substring(s, -3) as x from raw.strs
select id, substring(s, -3, 2) as x from raw.strs
select id, substr(s, 2) as x from raw.strs
select id, left(s, 2) as x from raw.strs
select id, right(s, 2) as x from raw.strs
select id, trim(s) as x from raw.strs
select id, ltrim(s) as x from raw.strs
select id, rtrim(s, 'd ') as x from raw.strs
select id, replace(s, 'a', 'A') as x from raw.strs
select id, reverse(s) as x from raw.strs
select id, repeat(s, 2) as x from raw.strs
select id, lpad(s, 8, '*') as x from raw.strs
select id, rpad(s, 3, '.') as x from raw.strs
select id, position('a' in s) as x from raw.strs
select id, strpos(s, 'e') as x from raw.strs
select id, instr(s, 'e') as x from raw.strs
select id, contains(s, 'a') as x from raw.strs
select id, starts_with(s, 'h') as x from raw.strs
select id, s like 'h%' as x from raw.strs
select id, s like p as x from raw.strs
select id, s ilike '%CASE' as x from raw.strs
select id, s not like '%a%' as x from raw.strs
select id, s like '%\%' as x from raw.strs
select id, s like '%\_%' escape '\' as x from raw.strs
select id, string_split(s, ',') as x from raw.strs
select id, split_part(s, ',', 2) as x from raw.strs
select id, ascii(s) as x from raw.strs
select id, chr(65 + id) as x from raw.strs
select id, md5(s) as x from raw.strs
select id, initcap(s) as x from raw.strs where id in (1, 9)
select id, s[2:3] as x from raw.strs
select id, s[1] as x from raw.strs
select id, format('{}-{}', s, id) as x from raw.strs -- refused: format()/printf() -- rewrite: s || '-' || cast(id as varchar)
select id, printf('%s-%d', s, id) as x from raw.strs -- refused: format()/printf() -- rewrite: s || '-' || cast(id as varchar)
select id, length(s) - length(replace(s, 'a', '')) as x from raw.strs
select id, translate(s, 'ae', 'AE') as x from raw.strs
select id, s = '' as x from raw.strs
select id, coalesce(nullif(s, ''), '(empty)') as x from raw.strs
select id, s < 'b' as x from raw.strs where id in (1, 2, 9, 12)
select id, lower(s) = lower(upper(s)) as x from raw.strs
select id, ends_with(s, 'e') as x from raw.strs
select id, suffix(s, 'e') as x from raw.strs
select id, prefix(s, 'h') as x from raw.strs
select id, bit_length(s) as x from raw.strs
select id, left(s, -2) as x from raw.strs
select id, length(upper(s)) as x from raw.strs
select id, s || null as x from raw.strs
select id, concat(s, null) as x from raw.strs
select id, string_agg(s, ',') over () is not null as x from raw.strs
select id, ucase(s) as x from raw.strs
select id, lcase(s) as x from raw.strs
select id, array_to_string(string_split(s, ','), '|') as x from raw.strs
