select id, l as x from raw.lists
select id, t as x from raw.lists
select id, len(l) as x from raw.lists
select id, array_length(l) as x from raw.lists
select id, l[1] as x from raw.lists
select id, l[-1] as x from raw.lists
select id, l[2:3] as x from raw.lists
select id, list_contains(l, 1) as x from raw.lists
select id, list_sort(l) as x from raw.lists
select id, list_reverse(l) as x from raw.lists
select id, array_concat(l, [9]) as x from raw.lists
select id, [1, 2, 3] as x from raw.lists
select id, list_value(id, id + 1) as x from raw.lists
select id, unnest(l) as x from raw.lists
select id, list_aggregate(l, 'sum') as x from raw.lists
select id, list_transform(l, x -> x * 2) as x from raw.lists
select id, list_filter(l, x -> x > 1) as x from raw.lists
select id, {'a': id, 'b': 'x'} as x from raw.lists
select id, struct_pack(a := id) as x from raw.lists
select id, l = [1, 2, 3] as x from raw.lists
select id, array_to_string(t, ',') as x from raw.lists
select id, list_distinct(l) as x from raw.lists
select id, flatten([l, l]) as x from raw.lists
select id, list_position(l, 1) as x from raw.lists
select id, map([1], ['a']) as x from raw.lists
select id, list_has_any(l, [1, 5]) as x from raw.lists
select id, cardinality(l) as x from raw.lists
select id, list_slice(l, 1, 2) as x from raw.lists
