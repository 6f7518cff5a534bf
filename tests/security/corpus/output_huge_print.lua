-- expect: output_limit
-- promise: 7
print(("x"):rep(1e6))
