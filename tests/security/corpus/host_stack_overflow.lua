-- expect: memory
-- promise: 11
local function f()
  local a, b, c, d, e, g, h, i, j, k, l, m, n, o, p, q = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
  return a + f()
end
return f()
