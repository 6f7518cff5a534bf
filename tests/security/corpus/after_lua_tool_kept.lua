-- expect: ok
-- promise: 10
-- after: return not Tool.exists("corpus-late")
Tool.register({name = "corpus-late", description = "x", handler = function() while true do end end}) return 1
