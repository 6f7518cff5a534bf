-- expect: runtime
-- promise: 12
return Tool.execute("slow", {})
