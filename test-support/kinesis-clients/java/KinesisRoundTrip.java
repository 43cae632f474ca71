import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * A Kinesis application on the AWS SDK for Java v2 (its default wire protocol for Kinesis is CBOR),
 * run by the integration tests against Tideway's Kinesis-compatible API. The endpoint comes from
 * AWS_ENDPOINT_URL_KINESIS, the keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Each command
 * prints one JSON line.
 *
 *   roundtrip STREAM N          PutRecord N/2 records, PutRecords the rest (sending again the entries
 *                               the response marks failed, as a careful producer does), read every
 *                               shard from TRIM_HORIZON: {"put","read","distinct","failedEntries",
 *                               "errorCodes","orderProblems","problems"}; a retried entry may land
 *                               after a newer one of its key, as on Kinesis, so orderProblems only
 *                               count when failedEntries is 0
 *   expired-iterator STREAM MS  take a TRIM_HORIZON iterator, wait MS, use it: {"error"}
 *   put-one STREAM              one PutRecord: {"sequenceNumber"} or {"error"}
 */
public final class KinesisRoundTrip {
  public static void main(String[] args) throws Exception {
    String command = args[0];
    String stream = args[1];
    try (KinesisClient kinesis = client()) {
      switch (command) {
        case "roundtrip" -> roundtrip(kinesis, stream, Integer.parseInt(args[2]));
        case "expired-iterator" -> expiredIterator(kinesis, stream, Long.parseLong(args[2]));
        case "put-one" -> putOne(kinesis, stream);
        default -> throw new IllegalArgumentException("unknown command " + command);
      }
    }
  }

  static KinesisClient client() {
    return KinesisClient.builder()
        .endpointOverride(URI.create(System.getenv("AWS_ENDPOINT_URL_KINESIS")))
        .region(Region.of(System.getenv().getOrDefault("AWS_REGION", "us-east-1")))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(System.getenv("AWS_ACCESS_KEY_ID"), System.getenv("AWS_SECRET_ACCESS_KEY"))))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  static void roundtrip(KinesisClient kinesis, String stream, int n) {
    List<String> problems = new ArrayList<>();
    Map<String, Integer> errorCodes = new HashMap<>();
    int failedEntries = 0;
    List<PutRecordsRequestEntry> batch = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String key = "client-" + (i % 40);
      String data = "{\"txn\":\"J" + i + "\",\"key\":\"" + key + "\"}";
      if (i < n / 2) {
        kinesis.putRecord(b -> b.streamName(stream).partitionKey(key).data(SdkBytes.fromUtf8String(data)));
      } else {
        batch.add(PutRecordsRequestEntry.builder().partitionKey(key).data(SdkBytes.fromUtf8String(data)).build());
      }
    }
    // As the SDK documentation advises: send again only the entries the response marks failed.
    List<PutRecordsRequestEntry> pending = batch;
    while (!pending.isEmpty()) {
      List<PutRecordsRequestEntry> failed = new ArrayList<>();
      for (int from = 0; from < pending.size(); from += 500) {
        List<PutRecordsRequestEntry> chunk = pending.subList(from, Math.min(from + 500, pending.size()));
        PutRecordsResponse r = kinesis.putRecords(b -> b.streamName(stream).records(chunk));
        int failedHere = 0;
        for (int i = 0; i < chunk.size(); i++) {
          PutRecordsResultEntry e = r.records().get(i);
          if (e.errorCode() == null) continue;
          failedHere++;
          errorCodes.merge(e.errorCode(), 1, Integer::sum);
          if (e.errorMessage() == null || e.errorMessage().isEmpty()) problems.add("a failed entry without ErrorMessage");
          failed.add(chunk.get(i));
        }
        if (failedHere != r.failedRecordCount()) problems.add("FailedRecordCount " + r.failedRecordCount() + " but " + failedHere + " entries with an ErrorCode");
      }
      failedEntries += failed.size();
      if (!failed.isEmpty()) sleep(200);
      pending = failed;
    }

    List<Shard> shards = kinesis.listShards(b -> b.streamName(stream)).shards();
    Map<String, Integer> lastByKey = new HashMap<>();
    List<String> orderProblems = new ArrayList<>();
    Map<String, Integer> seen = new LinkedHashMap<>();
    int read = 0;
    for (Shard shard : shards) {
      String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard.shardId()).shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
      int empty = 0;
      while (it != null && empty < 3) {
        String iterator = it;
        GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(iterator).limit(1000));
        for (Record rec : r.records()) {
          read++;
          String data = rec.data().asString(StandardCharsets.UTF_8);
          int id = Integer.parseInt(data.replaceAll(".*\"txn\":\"J(\\d+)\".*", "$1"));
          seen.merge("J" + id, 1, Integer::sum);
          Integer last = lastByKey.get(rec.partitionKey());
          if (last != null && id < last) orderProblems.add("J" + id + " came after J" + last + " of key " + rec.partitionKey());
          lastByKey.put(rec.partitionKey(), id);
          if (rec.approximateArrivalTimestamp() == null) problems.add("J" + id + " has no ApproximateArrivalTimestamp");
        }
        empty = r.records().isEmpty() ? empty + 1 : 0;
        it = r.nextShardIterator();
      }
    }
    for (int i = 0; i < n; i++) if (!seen.containsKey("J" + i)) problems.add("J" + i + " missing");
    seen.forEach((id, count) -> { if (count > 1) problems.add(id + " read " + count + " times"); });
    System.out.println("{\"put\":" + n + ",\"read\":" + read + ",\"distinct\":" + seen.size() + ",\"failedEntries\":" + failedEntries
        + ",\"errorCodes\":" + json(errorCodes) + ",\"orderProblems\":" + json(orderProblems.subList(0, Math.min(20, orderProblems.size())))
        + ",\"problems\":" + json(problems.subList(0, Math.min(20, problems.size()))) + "}");
  }

  static void expiredIterator(KinesisClient kinesis, String stream, long waitMs) {
    String shardId = kinesis.listShards(b -> b.streamName(stream)).shards().get(0).shardId();
    String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shardId).shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
    sleep(waitMs);
    try {
      kinesis.getRecords(b -> b.shardIterator(it));
      System.out.println("{\"error\":null}");
    } catch (KinesisException e) {
      System.out.println("{\"error\":\"" + e.awsErrorDetails().errorCode() + "\"}");
    }
  }

  static void putOne(KinesisClient kinesis, String stream) {
    try {
      String seq = kinesis.putRecord(b -> b.streamName(stream).partitionKey("k").data(SdkBytes.fromUtf8String("{\"one\":1}"))).sequenceNumber();
      System.out.println("{\"sequenceNumber\":\"" + seq + "\"}");
    } catch (KinesisException e) {
      System.out.println("{\"error\":\"" + e.awsErrorDetails().errorCode() + "\",\"status\":" + e.statusCode() + "}");
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String json(Map<String, Integer> m) {
    StringBuilder b = new StringBuilder("{");
    m.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
    return b.append('}').toString();
  }

  static String json(List<String> l) {
    StringBuilder b = new StringBuilder("[");
    for (String s : l) b.append(b.length() > 1 ? "," : "").append('"').append(s.replace("\"", "'")).append('"');
    return b.append(']').toString();
  }
}
