-- expect: ok
-- promise: 9
-- value: true
-- after: return not Tool.exists("corpus-leftover")
Tool.register({name = "corpus-leftover", description = "x", handler = function() return 1 end}) return Tool.exists("corpus-leftover")
