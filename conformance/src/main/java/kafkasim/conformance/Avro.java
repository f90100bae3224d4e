package kafkasim.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.LinkedHashMap;

/**
 * The Avro kinds, answered by Apache Avro's own classes.
 *
 * <ul>
 * <li>{@code avro_parse}: {@code {"schema": text}} → {@code {"canonical": Parsing Canonical Form}} or
 * {@code {"error": {class}}}, from {@code new Schema.Parser().parse} and
 * {@code SchemaNormalization.toParsingForm}.</li>
 * <li>{@code avro_encode}: {@code {"schema": text, "json": value in Avro's JSON encoding}} →
 * {@code {"hex": binary encoding}}: {@code GenericDatumReader} over a {@code JsonDecoder}, then
 * {@code GenericDatumWriter} into a {@code BinaryEncoder}.</li>
 * <li>{@code avro_resolve}: {@code {"writer": text, "reader": text, "hex": a datum written with the
 * writer}} → {@code {"hex": the datum read with both schemas, written again with the reader's}} or
 * {@code {"error": {class}}}: {@code GenericDatumReader(writer, reader)}.</li>
 * <li>{@code avro_compat}: {@code {"a": text, "b": text}} → for each direction
 * ({@code "b_reads_a"}, {@code "a_reads_b"}) {@code SchemaCompatibility.checkReaderWriterCompatibility}'s
 * type and every incompatibility's type, message and location, or {@code {"error": {class}}}.</li>
 * </ul>
 *
 * <p>Maps are read into insertion-ordered maps, so that a datum is written again in the order it was
 * read (Avro leaves a map's order to the implementation; {@code GenericDatumReader} uses a
 * {@code HashMap}).
 */
final class Avro {
    private Avro() {
    }

    /** A generic reader whose maps keep their order. */
    private static final class OrderedReader<D> extends GenericDatumReader<D> {
        OrderedReader(Schema writer, Schema reader) {
            super(writer, reader);
        }

        @Override
        protected Object newMap(Object old, int size) {
            return new LinkedHashMap<>(size);
        }
    }

    private static Schema parse(String text) {
        return new Schema.Parser().parse(text);
    }

    private static String write(Schema schema, Object datum) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<Object>(schema).write(datum, encoder);
        encoder.flush();
        return HexFormat.of().formatHex(out.toByteArray());
    }

    static void parse(JsonNode request, ObjectNode reply) {
        try {
            reply.put("canonical", SchemaNormalization.toParsingForm(parse(request.path("schema").asText())));
        } catch (RuntimeException e) {
            Main.error(reply, e);
        }
    }

    static void encode(JsonNode request, ObjectNode reply) {
        try {
            Schema schema = parse(request.path("schema").asText());
            String json = Main.JSON.writeValueAsString(request.get("json"));
            Object datum = new OrderedReader<Object>(schema, schema).read(null, DecoderFactory.get().jsonDecoder(schema, json));
            reply.put("hex", write(schema, datum));
        } catch (IOException | RuntimeException e) {
            Main.error(reply, e);
        }
    }

    static void resolve(JsonNode request, ObjectNode reply) {
        try {
            Schema writer = parse(request.path("writer").asText());
            Schema reader = parse(request.path("reader").asText());
            byte[] bytes = HexFormat.of().parseHex(request.path("hex").asText());
            Object datum = new OrderedReader<Object>(writer, reader).read(null, DecoderFactory.get().binaryDecoder(bytes, null));
            reply.put("hex", write(reader, datum));
        } catch (IOException | RuntimeException e) {
            Main.error(reply, e);
        }
    }

    static void compat(JsonNode request, ObjectNode reply) {
        Schema a;
        Schema b;
        try {
            a = parse(request.path("a").asText());
            b = parse(request.path("b").asText());
        } catch (RuntimeException e) {
            Main.error(reply, e);
            return;
        }
        check(reply.putObject("b_reads_a"), b, a);
        check(reply.putObject("a_reads_b"), a, b);
    }

    private static void check(ObjectNode out, Schema reader, Schema writer) {
        try {
            SchemaCompatibility.SchemaPairCompatibility pair = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
            out.put("type", pair.getType().name());
            ArrayNode list = out.putArray("incompatibilities");
            for (SchemaCompatibility.Incompatibility i : pair.getResult().getIncompatibilities()) {
                ObjectNode item = list.addObject();
                item.put("type", i.getType().name());
                item.put("message", i.getMessage());
                item.put("location", i.getLocation());
            }
        } catch (RuntimeException e) {
            ObjectNode error = out.putObject("error");
            error.put("class", e.getClass().getName());
        }
    }
}
