-- expect: runtime
-- promise: 11
os.exit(7)
