-- expect: timeout
-- promise: 3
spawn(function() while true do end end) sleep(1)
