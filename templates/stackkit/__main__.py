from stackkit.program import run
run()
