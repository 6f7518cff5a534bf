-- expect: ok
-- promise: 1
-- value: true
return os.getenv("HOME") == nil and os.getenv("PATH") == nil and os.getenv("LLMSPELL_CORPUS_SECRET") == nil
