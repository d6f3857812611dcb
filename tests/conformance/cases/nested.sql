select id, l as x from raw.lists
select id, t as x from raw.lists
select id, len(l) as x from raw.lists
select id, array_length(l) as x from raw.lists
select id, l[1] as x from raw.lists
select id, l[-1] as x from raw.lists
select id, l[2:3] as x from raw.lists
select id, list_contains(l, 1) as x from raw.lists
select id, list_sort(l) as x from raw.lists
select id, list_reverse(l) as x from raw.lists -- refused: list_reverse() -- rewrite: a subquery over unnest(l) with ordinality
select id, array_concat(l, [9]) as x from raw.lists
select id, [1, 2, 3] as x from raw.lists
select id, list_value(id, id + 1) as x from raw.lists
select id, unnest(l) as x from raw.lists
select id, list_aggregate(l, 'sum') as x from raw.lists -- refused: list_aggregate() -- rewrite: (select sum(x) from unnest(l) as x)
select id, list_transform(l, x -> x * 2) as x from raw.lists -- refused: lambda -- rewrite: a subquery over unnest(l)
select id, list_filter(l, x -> x > 1) as x from raw.lists -- refused: lambda -- rewrite: a subquery over unnest(l) with a where
select id, {'a': id, 'b': 'x'} as x from raw.lists -- refused: struct literal -- rewrite: separate columns
select id, struct_pack(a := id) as x from raw.lists -- refused: struct literal -- rewrite: separate columns
select id, l = [1, 2, 3] as x from raw.lists
select id, array_to_string(t, ',') as x from raw.lists
select id, list_distinct(l) as x from raw.lists -- refused: list_distinct() -- rewrite: (select array_agg(distinct x) from unnest(l) as x)
select id, flatten([l, l]) as x from raw.lists -- refused: flatten() -- rewrite: array_concat of the inner lists
select id, list_position(l, 1) as x from raw.lists -- refused: list_position() -- rewrite: a subquery over unnest(l) with ordinality
select id, map([1], ['a']) as x from raw.lists -- refused: map() -- rewrite: separate key and value columns
select id, list_has_any(l, [1, 5]) as x from raw.lists
select id, cardinality(l) as x from raw.lists
select id, list_slice(l, 1, 2) as x from raw.lists -- refused: list_slice() -- rewrite: l[1:2]
