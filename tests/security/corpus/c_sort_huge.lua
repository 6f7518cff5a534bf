-- expect: timeout
-- promise: 4
local t = {} for i = 1, 300000 do t[i] = (i * 7919) % 300000 end table.sort(t) table.sort(t, function(a, b) return a > b end) return t[1]
