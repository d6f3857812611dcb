select id, json_extract(j, '$.a') as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, json_extract_string(j, '$.a') as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, j->>'a' as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, j->'b' as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, json_array_length(j, '$.b') as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, json_valid(j) as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, json_type(j) as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, to_json(id) as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, json_object('k', id) as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
select id, json_extract_string(j, '$.c.d') as x from raw.docs -- refused: JSON -- rewrite: extract the fields upstream into typed columns
