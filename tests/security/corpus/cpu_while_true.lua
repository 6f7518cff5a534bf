-- expect: timeout
-- promise: 3
while true do end
