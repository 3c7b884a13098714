#!/usr/bin/env bash
# A shadow-test lifecycle through the AWS CLI v1, written from the AWS docs (CLI reference of
# `aws sagemaker` and the developer guide's "Shadow tests" pages), not from this project's client.
# Usage: cli_lifecycle.sh PYTHON ENDPOINT_URL   (PYTHON: an interpreter with awscli installed)
set -euo pipefail
PY="$1"
URL="$2"
ROLE=arn:aws:iam::123456789012:role/shadow-test-role
IMAGE=123456789012.dkr.ecr.us-east-1.amazonaws.com/model:latest
EP=cli-endpoint
EXP=cli-shadow-test

aws() { "$PY" -m awscli --endpoint-url "$URL" --region us-east-1 "$@"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
expect() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }
status() { aws sagemaker describe-inference-experiment --name "$EXP" --query Status --output text; }
wait_status() {
  for _ in $(seq 1 120); do
    s="$(status)"
    [[ "$s" == "$1" ]] && return 0
    sleep 0.25
  done
  fail "experiment never reached $1 (last: $s)"
}
variants() {
  aws sagemaker describe-inference-experiment --name "$EXP" \
    --query 'ModelVariants[].[VariantName,Status]' --output text | sort | tr '\t\n' ':,'
}

# 1. models, endpoint config, endpoint
for m in cli-prod-model cli-candidate-model; do
  aws sagemaker create-model --model-name "$m" --execution-role-arn "$ROLE" \
    --primary-container Image="$IMAGE" --output text >/dev/null
done
aws sagemaker create-endpoint-config --endpoint-config-name cli-config \
  --production-variants VariantName=AllTraffic,ModelName=cli-prod-model,InstanceType=ml.m5.xlarge,InitialInstanceCount=1,InitialVariantWeight=1 \
  --output text >/dev/null
aws sagemaker create-endpoint --endpoint-name "$EP" --endpoint-config-name cli-config --output text >/dev/null
aws sagemaker wait endpoint-in-service --endpoint-name "$EP"

# 2. the shadow test: production AllTraffic, shadow variant candidate at 50 %
INFRA='{"InfrastructureType":"RealTimeInference","RealTimeInferenceConfig":{"InstanceType":"ml.m5.xlarge","InstanceCount":1}}'
ARN="$(aws sagemaker create-inference-experiment --name "$EXP" --type ShadowMode --role-arn "$ROLE" \
  --endpoint-name "$EP" \
  --model-variants "[{\"ModelName\":\"cli-prod-model\",\"VariantName\":\"AllTraffic\",\"InfrastructureConfig\":$INFRA},{\"ModelName\":\"cli-candidate-model\",\"VariantName\":\"candidate\",\"InfrastructureConfig\":$INFRA}]" \
  --shadow-mode-config 'SourceModelVariantName=AllTraffic,ShadowModelVariants=[{ShadowModelVariantName=candidate,SamplingPercentage=50}]' \
  --tags Key=team,Value=ml --query InferenceExperimentArn --output text)"
[[ "$ARN" == arn:aws:sagemaker:us-east-1:*:inference-experiment/$EXP ]] || fail "ARN: $ARN"
wait_status Running
expect "$(aws sagemaker list-inference-experiments --name-contains cli-shadow --query 'InferenceExperiments[].Name' --output text)" "$EXP" list
expect "$(aws sagemaker describe-endpoint --endpoint-name "$EP" --query 'ShadowProductionVariants[].VariantName' --output text)" candidate "shadow variant on the endpoint"

# 3. raise the sampling to 100 % (the guide's advice before promoting)
aws sagemaker update-inference-experiment --name "$EXP" \
  --shadow-mode-config 'SourceModelVariantName=AllTraffic,ShadowModelVariants=[{ShadowModelVariantName=candidate,SamplingPercentage=100}]' \
  --output text >/dev/null
wait_status Running
expect "$(aws sagemaker describe-inference-experiment --name "$EXP" --query 'ShadowModeConfig.ShadowModelVariants[0].SamplingPercentage' --output text)" 100 sampling

# 4. tags on the experiment's ARN
expect "$(aws sagemaker list-tags --resource-arn "$ARN" --query 'Tags[?Key==`team`].Value' --output text)" ml "create tags"
aws sagemaker add-tags --resource-arn "$ARN" --tags Key=stage,Value=shadow --output text >/dev/null
aws sagemaker delete-tags --resource-arn "$ARN" --tag-keys team
expect "$(aws sagemaker list-tags --resource-arn "$ARN" --query 'Tags[].Key' --output text)" stage "tags after add and delete"

# 5. stop and promote the shadow variant ("Promote a shadow variant")
aws sagemaker stop-inference-experiment --name "$EXP" \
  --model-variant-actions candidate=Promote,AllTraffic=Remove --desired-state Completed --reason "candidate wins" \
  --output text >/dev/null
wait_status Completed
expect "$(variants)" "AllTraffic:Deleted,candidate:InService," "variant statuses after promotion"
aws sagemaker wait endpoint-in-service --endpoint-name "$EP"
CONFIG="$(aws sagemaker describe-endpoint --endpoint-name "$EP" --query EndpointConfigName --output text)"
expect "$(aws sagemaker describe-endpoint-config --endpoint-config-name "$CONFIG" --query 'ProductionVariants[].[VariantName,ModelName]' --output text | tr '\t\n' ': ')" "candidate:cli-candidate-model " "production after promotion"
expect "$(aws sagemaker describe-endpoint --endpoint-name "$EP" --query 'ProductionVariants[].VariantName' --output text)" candidate "endpoint variants"
expect "$(aws sagemaker describe-inference-experiment --name "$EXP" --query StatusReason --output text)" "candidate wins" reason

# 6. delete: the metadata goes, the endpoint stays
aws sagemaker delete-inference-experiment --name "$EXP" --output text >/dev/null
ERR="$(mktemp)"
trap 'rm -f "$ERR"' EXIT
if aws sagemaker describe-inference-experiment --name "$EXP" >/dev/null 2>"$ERR"; then
  fail "describe after delete succeeded"
fi
grep -q ResourceNotFound "$ERR" || fail "describe after delete: $(cat "$ERR")"
expect "$(aws sagemaker describe-endpoint --endpoint-name "$EP" --query EndpointStatus --output text)" InService "endpoint after delete"
echo "CLI LIFECYCLE OK"
