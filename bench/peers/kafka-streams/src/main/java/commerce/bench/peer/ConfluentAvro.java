package commerce.bench.peer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id,
 * Avro binary) for the schemas the bench hands over with their registry ids, so
 * the peer needs no registry client. Not thread-safe: one per stream task.
 */
final class ConfluentAvro {
  static final class UndecodableException extends Exception {
    private static final long serialVersionUID = 1L;

    UndecodableException(String message) {
      super(message);
    }
  }

  /** A schema file (one of schemas/**.avsc) and the id the registry gave it. */
  record Registered(int id, Path file) {
    static Registered parse(String spec) {
      int colon = spec.indexOf(':');
      if (colon < 1) throw new IllegalArgumentException("--schema expects <id>:<file.avsc>, got '" + spec + "'");
      return new Registered(Integer.parseInt(spec.substring(0, colon)), Path.of(spec.substring(colon + 1)));
    }
  }

  private record Writer(int id, Schema schema, GenericDatumWriter<GenericRecord> datumWriter) {}

  private final Map<Integer, GenericDatumReader<GenericRecord>> readers = new HashMap<>();
  private final Map<String, Writer> writers = new HashMap<>();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream(512);
  private BinaryDecoder decoder;
  private BinaryEncoder encoder;

  /** Parsed once; each task then builds its own readers and writers from them. */
  static Map<Integer, Schema> load(Iterable<Registered> schemas) {
    Map<Integer, Schema> byId = new HashMap<>();
    for (Registered r : schemas) {
      try {
        // One parser per file: several files define the same named enum.
        byId.put(r.id(), new Schema.Parser().parse(Files.readString(r.file())));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + r.file(), e);
      }
    }
    return byId;
  }

  ConfluentAvro(Map<Integer, Schema> byId) {
    byId.forEach((id, schema) -> {
      readers.put(id, new GenericDatumReader<>(schema));
      writers.put(schema.getFullName(), new Writer(id, schema, new GenericDatumWriter<>(schema)));
    });
  }

  /** The schema registered under a full record name, e.g. commerce.inventory.StockReserved. */
  Schema schema(String fullName) {
    Writer w = writers.get(fullName);
    if (w == null) throw new IllegalStateException("no schema id was given for " + fullName);
    return w.schema();
  }

  GenericRecord decode(byte[] value) throws UndecodableException {
    if (value == null || value.length < 5) throw new UndecodableException("too short for the Confluent wire format");
    if (value[0] != 0) throw new UndecodableException("bad magic byte " + value[0]);
    int id = ((value[1] & 0xff) << 24) | ((value[2] & 0xff) << 16) | ((value[3] & 0xff) << 8) | (value[4] & 0xff);
    GenericDatumReader<GenericRecord> reader = readers.get(id);
    if (reader == null) throw new UndecodableException("schema id " + id + " was not given to the peer");
    decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, decoder);
    try {
      return reader.read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw new UndecodableException("Avro payload for schema id " + id + " cannot be decoded: " + e.getMessage());
    }
  }

  byte[] encode(GenericRecord record) {
    Writer w = writers.get(record.getSchema().getFullName());
    if (w == null) throw new IllegalStateException("no schema id was given for " + record.getSchema().getFullName());
    out.reset();
    out.write(0);
    out.write(w.id() >>> 24);
    out.write(w.id() >>> 16);
    out.write(w.id() >>> 8);
    out.write(w.id());
    encoder = EncoderFactory.get().binaryEncoder(out, encoder);
    try {
      w.datumWriter().write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
