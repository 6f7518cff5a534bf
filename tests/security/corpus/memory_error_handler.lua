-- expect: memory
-- promise: 5
local keep = {} while true do xpcall(function() keep[#keep + 1] = ("z"):rep(4096) .. #keep end, function(e) return e end) end
