"""Load-based scaling, as OpsWorks did it: a layer's stopped load-based instances are started when its "up" CloudWatch
alarm fires and stopped again when its "down" alarm fires, with a quiet period after each change.

And during `pulumi up`, a stopped time- or load-based instance is woken before its lifecycle scripts and settled after
them (stopped again, or left on inside its schedule's hours).

`decide` holds the rules (pure, standard library only); `aws` holds the AWS Lambda handlers: `handler` (the scaling
function the alarms invoke) and `lifecycle_handler` (the wake function `pulumi up` invokes). This package is also
deployed on its own as both functions' code, as the top-level package `scaling`: it imports only itself
(relatively), the standard library and boto3, never `stackkit.`.
"""
