-- expect: runtime
-- promise: 1
return os.execute("id")
