select id, v as MyCol from raw.pairs
select id, v as "MyCol" from raw.pairs
select id, v as "my col" from raw.pairs
select id, sum(v) over () from raw.pairs -- refused: has no name -- rewrite: give every expression an alias
select id, id from raw.pairs -- refused: two output columns are named -- rewrite: alias one of them
select ID, K from raw.pairs
select id, v + 1 as "Plus One" from raw.pairs
select * from raw.pairs
select p.* from raw.pairs p
select id as select_ from raw.pairs
