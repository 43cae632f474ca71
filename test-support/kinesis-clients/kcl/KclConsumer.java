import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.kinesis.common.ConfigsBuilder;
import software.amazon.kinesis.common.InitialPositionInStream;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.lifecycle.events.InitializationInput;
import software.amazon.kinesis.lifecycle.events.LeaseLostInput;
import software.amazon.kinesis.lifecycle.events.ProcessRecordsInput;
import software.amazon.kinesis.lifecycle.events.ShardEndedInput;
import software.amazon.kinesis.lifecycle.events.ShutdownRequestedInput;
import software.amazon.kinesis.metrics.MetricsLevel;
import software.amazon.kinesis.processor.ShardRecordProcessor;
import software.amazon.kinesis.processor.SingleStreamTracker;
import software.amazon.kinesis.retrieval.KinesisClientRecord;
import software.amazon.kinesis.retrieval.polling.PollingConfig;

/**
 * A Kinesis Client Library 3 application as users write one: a Scheduler with polling retrieval
 * (GetRecords), leases and checkpoints in DynamoDB, from TRIM_HORIZON. Each record it processes is
 * printed as `RECORD <shardId> <sequenceNumber> <partitionKey> <data as UTF-8>` once its batch is
 * checkpointed, and it stops once it has seen `expected` distinct sequence numbers (or after `timeoutS`).
 *
 *   java -cp ... KclConsumer <kinesisEndpoint> <dynamodbEndpoint> <stream> <application> <expected> <timeoutS>
 * Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (any for DynamoDB on moto).
 */
public class KclConsumer {
  static final Set<String> seen = ConcurrentHashMap.newKeySet();

  static class Processor implements ShardRecordProcessor {
    private String shardId;

    public void initialize(InitializationInput input) {
      shardId = input.shardId();
    }

    public void processRecords(ProcessRecordsInput input) {
      StringBuilder lines = new StringBuilder();
      for (KinesisClientRecord r : input.records()) {
        byte[] data = new byte[r.data().remaining()];
        r.data().get(data);
        lines.append("RECORD ").append(shardId).append(' ').append(r.sequenceNumber()).append(' ').append(r.partitionKey()).append(' ');
        lines.append(new String(data, StandardCharsets.UTF_8)).append('\n');
      }
      try {
        input.checkpointer().checkpoint();
      } catch (Exception e) {
        lines.append("CHECKPOINT-FAILED ").append(shardId).append(' ').append(e).append('\n');
      }
      // Counted once checkpointed: a run that stops at `expected` leaves every record it saw checkpointed.
      synchronized (System.out) {
        System.out.print(lines);
      }
      for (KinesisClientRecord r : input.records()) seen.add(r.sequenceNumber());
    }

    public void leaseLost(LeaseLostInput input) {}

    public void shardEnded(ShardEndedInput input) {
      try {
        input.checkpointer().checkpoint();
      } catch (Exception e) {
        System.out.println("CHECKPOINT-FAILED " + shardId + " " + e);
      }
    }

    public void shutdownRequested(ShutdownRequestedInput input) {}
  }

  public static void main(String[] args) throws Exception {
    String kinesisEndpoint = args[0], dynamoEndpoint = args[1], stream = args[2], application = args[3];
    int expected = Integer.parseInt(args[4]);
    long timeoutMs = Long.parseLong(args[5]) * 1000;
    Region region = Region.EU_WEST_1;
    StaticCredentialsProvider credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create(System.getenv("AWS_ACCESS_KEY_ID"), System.getenv("AWS_SECRET_ACCESS_KEY")));
    KinesisAsyncClient kinesis =
        KinesisAsyncClient.builder()
            .endpointOverride(URI.create(kinesisEndpoint))
            .region(region)
            .credentialsProvider(credentials)
            .httpClient(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1).build())
            .build();
    DynamoDbAsyncClient dynamo = DynamoDbAsyncClient.builder().endpointOverride(URI.create(dynamoEndpoint)).region(region).credentialsProvider(credentials).build();
    CloudWatchAsyncClient cloudWatch = CloudWatchAsyncClient.builder().endpointOverride(URI.create(dynamoEndpoint)).region(region).credentialsProvider(credentials).build();

    SingleStreamTracker tracker = new SingleStreamTracker(stream, InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.TRIM_HORIZON));
    ConfigsBuilder configs = new ConfigsBuilder(tracker, application, kinesis, dynamo, cloudWatch, UUID.randomUUID().toString(), Processor::new);
    Scheduler scheduler =
        new Scheduler(
            configs.checkpointConfig(),
            configs.coordinatorConfig(),
            configs.leaseManagementConfig(),
            configs.lifecycleConfig(),
            configs.metricsConfig().metricsLevel(MetricsLevel.NONE),
            configs.processorConfig(),
            configs.retrievalConfig().retrievalSpecificConfig(new PollingConfig(stream, kinesis).idleTimeBetweenReadsInMillis(200)));
    Thread worker = new Thread(scheduler);
    worker.setDaemon(true);
    worker.start();
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (seen.size() < expected && System.currentTimeMillis() < deadline) Thread.sleep(200);
    System.out.println("SEEN " + seen.size());
    scheduler.startGracefulShutdown().get(60, TimeUnit.SECONDS);
    System.exit(seen.size() >= expected ? 0 : 1);
  }
}
