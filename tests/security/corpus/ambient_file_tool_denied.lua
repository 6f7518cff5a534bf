-- expect: sandbox_violation
-- promise: 1
return Tool.execute("file-operations", {operation = "read", path = "/etc/passwd"})
