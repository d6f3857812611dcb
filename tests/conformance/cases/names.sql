select id, v as MyCol from raw.pairs
select id, v as "MyCol" from raw.pairs
select id, v as "my col" from raw.pairs
select id, sum(v) over () from raw.pairs
select id, id from raw.pairs
select ID, K from raw.pairs
select id, v + 1 as "Plus One" from raw.pairs
select * from raw.pairs
select p.* from raw.pairs p
select id as select_ from raw.pairs
