-- expect: runtime
-- promise: 12
Tool.register({name = "corpus-recurse", description = "x", handler = function(p) return Tool.execute("corpus-recurse", {}) end}) return Tool.execute("corpus-recurse", {})
