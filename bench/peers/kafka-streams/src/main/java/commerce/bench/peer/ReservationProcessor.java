package commerce.bench.peer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reservation decision of services/inventory/decider/decide.ts for
 * InitializeInventory and ReserveStock, on Kafka Streams state stores:
 * {@code variants} (variant id -> levels and version) and {@code reservations}
 * (variant id + reservation id -> first outcome, so a repeat has no second
 * effect). Every ReserveStock gets exactly one outcome record, as with our
 * processor, and a new variant its InventoryRecordInitialized; the status
 * announcements that follow either are not written (see bench/peers/README.md).
 */
final class ReservationProcessor implements Processor<String, byte[], String, byte[]> {
  static final String VARIANTS = "variants";
  static final String RESERVATIONS = "reservations";

  /** services/inventory/decider/state.ts */
  private static final int DEFAULT_LOW_STOCK_THRESHOLD = 10;
  private static final int DEFAULT_RESERVATION_TTL_SECONDS = 15 * 60;
  private static final String SOURCE = "inventory-streams-peer";
  private static final DateTimeFormatter ISO_MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final byte[] SPEC_VERSION = bytes("1.0");
  private static final byte[] CONTENT_TYPE = bytes("application/avro");
  private static final byte[] INDEX_0 = bytes("0");
  private static final byte[] COUNT_1 = bytes("1");
  private static final Logger log = LoggerFactory.getLogger(ReservationProcessor.class);

  /** Counters the peer prints when it stops. */
  static final class Stats {
    final LongAdder commands = new LongAdder();
    final LongAdder outcomes = new LongAdder();
    final LongAdder skipped = new LongAdder();
  }

  private final Map<Integer, Schema> schemas;
  private final Stats stats;
  private ConfluentAvro avro;
  private Schema recordInitialized;
  private Schema stockReserved;
  private Schema reservationRejected;
  private Schema commandRejected;
  private Schema commandUnchanged;
  private Schema stockStatus;
  private Schema rejectionReason;
  private Schema unchangedReason;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, byte[]> variants;
  private KeyValueStore<String, byte[]> reservations;

  ReservationProcessor(Map<Integer, Schema> schemas, Stats stats) {
    this.schemas = schemas;
    this.stats = stats;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.variants = context.getStateStore(VARIANTS);
    this.reservations = context.getStateStore(RESERVATIONS);
    this.avro = new ConfluentAvro(schemas);
    recordInitialized = avro.schema("commerce.inventory.InventoryRecordInitialized");
    stockReserved = avro.schema("commerce.inventory.StockReserved");
    reservationRejected = avro.schema("commerce.inventory.ReservationRejected");
    commandRejected = avro.schema("commerce.platform.CommandRejected");
    commandUnchanged = avro.schema("commerce.platform.CommandUnchanged");
    stockStatus = recordInitialized.getField("status").schema();
    rejectionReason = reservationRejected.getField("reason").schema();
    unchangedReason = commandUnchanged.getField("reason").schema();
  }

  // ---- the variant's state, as a fixed 17-byte value ----

  /** Levels as in VariantStock; lifecycle is always ACTIVE here (no retirements or discontinuations). */
  private static final class Variant {
    int quantity;
    int reserved;
    int lowStockThreshold;
    int version;
    boolean awaitingInitialStock;

    static Variant read(byte[] b) {
      ByteBuffer buf = ByteBuffer.wrap(b);
      Variant v = new Variant();
      v.quantity = buf.getInt();
      v.reserved = buf.getInt();
      v.lowStockThreshold = buf.getInt();
      v.version = buf.getInt();
      v.awaitingInitialStock = buf.get() != 0;
      return v;
    }

    byte[] write() {
      return ByteBuffer.allocate(17).putInt(quantity).putInt(reserved).putInt(lowStockThreshold).putInt(version).put((byte) (awaitingInitialStock ? 1 : 0)).array();
    }

    int available() {
      return quantity - reserved;
    }

    /** statusOf() for an active variant. */
    Status status() {
      if (awaitingInitialStock) return Status.AWAITING_INITIAL_STOCK;
      int free = available();
      if (free <= 0) return Status.OUT_OF_STOCK;
      if (free <= lowStockThreshold) return Status.LOW_STOCK;
      return Status.IN_STOCK;
    }
  }

  private enum Status {
    AWAITING_INITIAL_STOCK(-1), OUT_OF_STOCK(0), LOW_STOCK(1), IN_STOCK(2);

    final int rank;

    Status(int rank) {
      this.rank = rank;
    }
  }

  /**
   * How many status announcements our decider emits for a move between two
   * statuses (announcements() in decide.ts). The peer does not write them, but
   * counts their versions, so its events carry the same versions as ours.
   */
  private static int announcements(Status before, Status after) {
    if (after == before) return 0;
    int n = before == null ? 0 : 1; // StockStatusChanged
    if (after == Status.LOW_STOCK && before != Status.OUT_OF_STOCK) n++; // LowStockThresholdReached
    if (after == Status.OUT_OF_STOCK) n++; // OutOfStock
    if (before != null && (before == Status.OUT_OF_STOCK || before == Status.LOW_STOCK || before == Status.AWAITING_INITIAL_STOCK) && after.rank > before.rank) n++; // StockReplenished
    return n;
  }

  // ---- processing ----

  @Override
  public void process(Record<String, byte[]> record) {
    stats.commands.increment();
    GenericRecord command;
    try {
      command = avro.decode(record.value());
    } catch (ConfluentAvro.UndecodableException e) {
      skip(record, e.getMessage());
      return;
    }
    String variantId = command.get("productVariantId").toString();
    if (!variantId.equals(record.key())) {
      skip(record, "key '" + record.key() + "' does not match productVariantId '" + variantId + "'");
      return;
    }
    Headers in = record.headers();
    String commandId = text(in, "ce_id");
    String correlationId = text(in, "ce_correlationid");
    long now = commandTime(in, record.timestamp());
    Meta meta = new Meta(variantId, commandId, correlationId != null ? correlationId : commandId, now);
    switch (command.getSchema().getName()) {
      case "InitializeInventory" -> initialize(command, meta);
      case "ReserveStock" -> reserve(command, meta);
      default -> skip(record, command.getSchema().getName() + " is not part of the reservation decision");
    }
  }

  private record Meta(String variantId, String commandId, String correlationId, long now) {}

  private void initialize(GenericRecord c, Meta m) {
    Integer initialStock = (Integer) c.get("initialStock");
    Integer threshold = (Integer) c.get("lowStockThreshold");
    // Ours answers a repeat with CommandUnchanged or InventorySetupFailed, and bad levels with
    // InventorySetupFailed; the benchmark sends neither, so the peer keeps no productId or SKU to tell them apart.
    if (variants.get(m.variantId()) != null || (initialStock != null && initialStock < 0) || (threshold != null && threshold < 0)) {
      stats.skipped.increment();
      log.warn("skipped InitializeInventory of variant '{}': already initialised or negative levels", m.variantId());
      return;
    }
    Variant v = new Variant();
    v.quantity = initialStock == null ? 0 : initialStock;
    v.lowStockThreshold = threshold == null ? DEFAULT_LOW_STOCK_THRESHOLD : threshold;
    v.awaitingInitialStock = initialStock == null;
    Status status = v.status();
    GenericRecord event = new GenericData.Record(recordInitialized);
    event.put("productVariantId", m.variantId());
    event.put("version", 1);
    event.put("occurredAt", m.now());
    event.put("productId", c.get("productId").toString());
    event.put("sku", c.get("sku").toString());
    event.put("lowStockThreshold", v.lowStockThreshold);
    event.put("quantity", v.quantity);
    event.put("reservedQuantity", v.reserved);
    event.put("availableQuantity", v.available());
    event.put("status", new GenericData.EnumSymbol(stockStatus, status.name()));
    v.version = 1 + announcements(null, status); // then what creation announces
    variants.put(m.variantId(), v.write());
    emit(m, event);
  }

  private void reserve(GenericRecord c, Meta m) {
    String reservationId = c.get("reservationId").toString();
    Object orderId = c.get("orderId");
    String order = orderId == null ? null : orderId.toString();
    int quantity = (Integer) c.get("quantity");
    Integer ttlSeconds = (Integer) c.get("ttlSeconds");

    byte[] state = variants.get(m.variantId());
    if (state == null) {
      emit(m, rejected(m, "UNKNOWN_VARIANT", "no stock record for variant " + m.variantId()));
      return;
    }
    String outcomeKey = m.variantId().length() + ":" + m.variantId() + reservationId; // length-prefixed: unambiguous
    byte[] first = reservations.get(outcomeKey);
    if (first != null) {
      int units = ByteBuffer.wrap(first).getInt(1);
      emit(m, units == quantity
          ? unchanged(m, "reservation " + reservationId + " was already decided")
          : rejected(m, "IDEMPOTENCY_CONFLICT", "reservation " + reservationId + " was already decided for a different quantity"));
      return;
    }
    if (quantity < 1) {
      emit(m, rejected(m, "INVALID_QUANTITY", "quantity must be at least 1, got " + quantity));
      return;
    }
    Variant v = Variant.read(state);
    GenericRecord event;
    if (v.available() < quantity) {
      event = new GenericData.Record(reservationRejected);
      event.put("productVariantId", m.variantId());
      event.put("version", v.version + 1);
      event.put("occurredAt", m.now());
      event.put("reservationId", reservationId);
      event.put("orderId", order);
      event.put("requestedUnits", quantity);
      event.put("reason", new GenericData.EnumSymbol(rejectionReason, "INSUFFICIENT_STOCK"));
      event.put("availableQuantity", Math.max(0, v.available()));
      v.version += 1;
    } else {
      Status before = v.status();
      v.reserved += quantity;
      int ttl = ttlSeconds == null ? DEFAULT_RESERVATION_TTL_SECONDS : ttlSeconds;
      event = new GenericData.Record(stockReserved);
      event.put("productVariantId", m.variantId());
      event.put("version", v.version + 1);
      event.put("occurredAt", m.now());
      event.put("reservationId", reservationId);
      event.put("orderId", order);
      event.put("reservedUnits", quantity);
      event.put("expiresAt", m.now() + ttl * 1000L);
      event.put("quantity", v.quantity);
      event.put("reservedQuantity", v.reserved);
      event.put("availableQuantity", v.available());
      v.version += 1 + announcements(before, v.status());
    }
    // The outcome a repeat is judged by: kind (for the record) and the units asked for.
    reservations.put(outcomeKey, ByteBuffer.allocate(5).put((byte) (event.getSchema() == stockReserved ? 'R' : 'J')).putInt(quantity).array());
    variants.put(m.variantId(), v.write());
    emit(m, event);
  }

  private GenericRecord rejected(Meta m, String code, String message) {
    GenericRecord r = new GenericData.Record(commandRejected);
    r.put("aggregateId", m.variantId());
    r.put("commandType", "ReserveStock");
    r.put("code", code);
    r.put("message", message);
    r.put("occurredAt", m.now());
    return r;
  }

  private GenericRecord unchanged(Meta m, String message) {
    GenericRecord r = new GenericData.Record(commandUnchanged);
    r.put("aggregateId", m.variantId());
    r.put("commandType", "ReserveStock");
    r.put("reason", new GenericData.EnumSymbol(unchangedReason, "ALREADY_APPLIED"));
    r.put("message", message);
    r.put("occurredAt", m.now());
    return r;
  }

  /** One outcome record, with the CloudEvents headers of services/platform/headers.ts. */
  private void emit(Meta m, GenericRecord event) {
    Headers h = new RecordHeaders();
    h.add("ce_specversion", SPEC_VERSION);
    h.add("ce_id", bytes(UUID.randomUUID().toString()));
    h.add("ce_type", bytes(event.getSchema().getFullName()));
    h.add("ce_source", bytes(SOURCE));
    h.add("ce_time", bytes(ISO_MILLIS.format(Instant.ofEpochMilli(m.now()))));
    if (m.correlationId() != null) h.add("ce_correlationid", bytes(m.correlationId()));
    if (m.commandId() != null) h.add("ce_causationid", bytes(m.commandId()));
    h.add("ce_outcomeindex", INDEX_0);
    h.add("ce_outcomecount", COUNT_1);
    h.add("content-type", CONTENT_TYPE);
    // The record's time is when it was decided, as a kafkajs producer stamps
    // it, not the command's (Streams' default): the bench measures write spans.
    context.forward(new Record<>(m.variantId(), avro.encode(event), System.currentTimeMillis(), h));
    stats.outcomes.increment();
  }

  private void skip(Record<String, byte[]> record, String reason) {
    stats.skipped.increment();
    // Our processor dead-letters these; the peer's benchmark never sends them, so one line each is enough.
    log.warn("skipped a command of key '{}': {}", record.key(), reason);
  }

  private static long commandTime(Headers headers, long fallback) {
    String time = text(headers, "ce_time");
    if (time == null) return fallback;
    try {
      return Instant.parse(time).toEpochMilli();
    } catch (DateTimeParseException e) {
      return fallback;
    }
  }

  private static String text(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
