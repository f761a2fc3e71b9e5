"""Load-based scaling, as OpsWorks did it: a layer's stopped load-based instances are started when its "up" CloudWatch
alarm fires and stopped again when its "down" alarm fires, with a quiet period after each change.

`decide` holds the rules (pure, standard library only); `aws` is the AWS Lambda handler that the alarms invoke.
This package is also deployed on its own as the function's code, as the top-level package `scaling` (handler
`scaling.aws.handler`): it imports only itself (relatively), the standard library and boto3, never `stackkit.`.
"""
