"""A stand-in Python CDK app: writes the cloud assembly the CDK CLI reads.

A real app does `app = cdk.App(); NotesStack(app, ...); app.synth()`; this one
writes the same files by hand so it runs without PyPI. It reads the context
stevedore passes (env, image.notes) the way aws-cdk-lib does: from the
CDK_CONTEXT_JSON environment variable set by the CDK CLI.
"""
import json
import os
import sys

context = json.loads(os.environ.get("CDK_CONTEXT_JSON", "{}"))
env = context.get("env")
image = context.get("image.notes")
if not env or not image:
    sys.exit("missing CDK context env or image.notes: stevedore sets them")

out = os.environ["CDK_OUTDIR"]
stack = f"NotesStack-{env}"
template = {
    "Resources": {
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {"ContainerDefinitions": [{"Name": "notes", "Image": image}]},
        },
    },
    "Outputs": {
        "ClusterName": {"Value": "notes"},
        "NotesServiceName": {"Value": "notes"},
    },
}
with open(os.path.join(out, f"{stack}.template.json"), "w") as f:
    json.dump(template, f, indent=1)
manifest = {
    "version": "48.0.0",
    "artifacts": {
        stack: {
            "type": "aws:cloudformation:stack",
            "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": f"{stack}.template.json"},
            "displayName": stack,
        }
    },
}
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
