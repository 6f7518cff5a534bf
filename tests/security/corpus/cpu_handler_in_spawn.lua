-- expect: timeout
-- promise: 3
parallel({function() while true do pcall(error) end end})
