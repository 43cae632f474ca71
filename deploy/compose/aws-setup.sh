#!/bin/sh
# docker compose one-shot: the Firehose delivery stream (moto) that the bridge's
# claims-to-firehose route writes to, and the bucket it delivers into. The Kinesis stream and
# the SeaweedFS bucket are created by the bridge itself (create: in routes.yaml).
set -eu
aws s3api head-bucket --bucket tideway-firehose 2>/dev/null || aws s3api create-bucket --bucket tideway-firehose
if ! aws firehose describe-delivery-stream --delivery-stream-name tideway-claims >/dev/null 2>&1; then
  aws firehose create-delivery-stream --delivery-stream-name tideway-claims \
    --delivery-stream-type DirectPut \
    --extended-s3-destination-configuration \
    'RoleARN=arn:aws:iam::123456789012:role/firehose,BucketARN=arn:aws:s3:::tideway-firehose,Prefix=claims/,BufferingHints={SizeInMBs=1,IntervalInSeconds=60}'
fi
echo "aws-setup: delivery stream tideway-claims → s3://tideway-firehose/claims/ ready"
