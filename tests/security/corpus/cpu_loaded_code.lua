-- expect: timeout
-- promise: 3
local f = load("while true do end") while true do pcall(f) end
