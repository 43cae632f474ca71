import boto3
import json
import time

kinesis = boto3.client('kinesis')

def consumir_stream(stream_name):
    # Obtener shards
    response = kinesis.describe_stream(StreamName=stream_name)
    shards = response['StreamDescription']['Shards']
    
    for shard in shards:
        shard_iterator = kinesis.get_shard_iterator(
            StreamName=stream_name,
            ShardId=shard['ShardId'],
            ShardIteratorType='LATEST'  # TRIM_HORIZON = desde el inicio
        )['ShardIterator']
        
        while True:
            response = kinesis.get_records(
                ShardIterator=shard_iterator,
                Limit=100
            )
            
            for record in response['Records']:
                data = json.loads(record['Data'])
                print(f"TXN: {data}")
                # Procesar: detección de fraude, alertas, etc.
            
            shard_iterator = response['NextShardIterator']
            time.sleep(1)  # Rate limiting
