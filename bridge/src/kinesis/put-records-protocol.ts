/**
 * The Kinesis client's wire protocol (AWS JSON 1.1), with PutRecords written and read directly.
 *
 * PutRecords carries every record the bridge sends, so its encoding is the bridge's hottest path. The
 * SDK's generic serializer walks the request's schema per record and base64-encodes each record's
 * data in JavaScript; here the body is written in one pass with Node's native base64. A successful
 * answer is read with JSON.parse. Everything else — endpoint, headers, signing, error answers, every
 * other operation — stays the SDK's, so the request on the wire is the one the SDK would send.
 */
import type { PutRecordsCommandInput, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { AwsJson1_1Protocol } from '@aws-sdk/core/protocols';
import { collectBody } from '@smithy/core/protocols';

type Protocol = InstanceType<typeof AwsJson1_1Protocol>;
type OperationSchema = Parameters<Protocol['serializeRequest']>[0];
type SerializeContext = Parameters<Protocol['serializeRequest']>[2];
type DeserializeContext = Parameters<Protocol['deserializeResponse']>[1];
type HttpResponse = Parameters<Protocol['deserializeResponse']>[2];
type Answer = Awaited<ReturnType<Protocol['deserializeResponse']>>;

const PUT_RECORDS = 'PutRecords';

/**
 * The PutRecords request body, byte for byte what JSON.stringify would give for
 * `{StreamName?, StreamARN?, Records: [{Data: base64, PartitionKey, ExplicitHashKey?}]}`.
 */
export function putRecordsBody(input: PutRecordsCommandInput): Buffer {
  const head: string[] = [];
  if (input.StreamName !== undefined) head.push(`"StreamName":${JSON.stringify(input.StreamName)}`);
  if (input.StreamARN !== undefined) head.push(`"StreamARN":${JSON.stringify(input.StreamARN)}`);
  const prefix = `{${head.join(',')}${head.length > 0 ? ',' : ''}"Records":[`;
  const records = input.Records ?? [];
  // Everything but the data is short: build those parts as strings, size the buffer exactly, then
  // write each record's data as base64 straight into it.
  const tails = new Array<string>(records.length);
  let size = Buffer.byteLength(prefix) + 2 + Math.max(0, records.length - 1);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const data = r.Data ?? new Uint8Array(0);
    let tail = `","PartitionKey":${JSON.stringify(r.PartitionKey ?? '')}`;
    if (r.ExplicitHashKey !== undefined) tail += `,"ExplicitHashKey":${JSON.stringify(r.ExplicitHashKey)}`;
    tails[i] = `${tail}}`;
    size += 9 + Math.ceil(data.length / 3) * 4 + Buffer.byteLength(tails[i]);
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.write(prefix, 0, 'latin1');
  for (let i = 0; i < records.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write('{"Data":"', at, 'latin1');
    const data = records[i].Data ?? new Uint8Array(0);
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    at += out.write(bytes.toString('base64'), at, 'latin1');
    at += out.write(tails[i], at, 'utf8');
  }
  at += out.write(']}', at, 'latin1');
  if (at !== size) throw new Error(`PutRecords body: wrote ${at} bytes of ${size}`);
  return out;
}

/** Passed to KinesisClient as `protocol` (the SDK constructs it with its own settings). */
export class KinesisProtocol extends AwsJson1_1Protocol {
  override async serializeRequest<Input extends object>(operationSchema: OperationSchema, input: Input, context: SerializeContext) {
    if (operationSchema.name !== PUT_RECORDS) return super.serializeRequest(operationSchema, input, context);
    const put = input as unknown as PutRecordsCommandInput;
    // The SDK builds the request (endpoint, target, content type) around an empty record list.
    const request = await super.serializeRequest(operationSchema, { StreamName: put.StreamName, StreamARN: put.StreamARN, Records: [] }, context);
    request.body = putRecordsBody(put);
    for (const h of Object.keys(request.headers)) if (h.toLowerCase() === 'content-length') delete request.headers[h];
    return request;
  }

  override async deserializeResponse<Output extends Answer>(
    operationSchema: OperationSchema,
    context: DeserializeContext,
    response: HttpResponse,
  ): Promise<Output> {
    if (operationSchema.name !== PUT_RECORDS || this.isErrorResponse(response.statusCode)) {
      return super.deserializeResponse(operationSchema, context, response);
    }
    const bytes = await collectBody(response.body, context);
    const parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Omit<PutRecordsCommandOutput, '$metadata'>;
    return { ...parsed, $metadata: this.deserializeMetadata(response) } as unknown as Output;
  }
}
