-- expect: output_limit
-- promise: 7
for i = 1, 10000 do io.write("abcdefghij") end
