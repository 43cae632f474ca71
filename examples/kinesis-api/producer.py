import boto3
import json
from datetime import datetime

kinesis = boto3.client('kinesis')

def enviar_transaccion(transaccion):
    response = kinesis.put_record(
        StreamName='transacciones-realtime',
        Data=json.dumps(transaccion),
        PartitionKey=str(transaccion['cliente_id'])  # Mismos clientes → mismo shard
    )
    return response['SequenceNumber']

# Enviar batch de transacciones
def enviar_batch(transacciones):
    records = [
        {
            'Data': json.dumps(txn),
            'PartitionKey': str(txn['cliente_id'])
        }
        for txn in transacciones
    ]
    # Máximo 500 records o 5MB por batch
    response = kinesis.put_records(
        StreamName='transacciones-realtime',
        Records=records
    )
    fallidos = response['FailedRecordCount']
    if fallidos > 0:
        print(f"⚠️ {fallidos} registros fallaron, reintentar")
    return response
