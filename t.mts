import { readFileSync } from 'node:fs';
import { createKafka, ensureTopic, KafkaLogProducer } from './src/transport/kafka.ts';
const kafka = createKafka({ brokers: ['127.0.0.1:39092'] });
const topic = process.argv[2]!;
await ensureTopic(kafka, topic, { partitions: 3 });
const p = new KafkaLogProducer(kafka);
const lines = readFileSync('test/fixtures/logs/elastic_apache.log', 'utf8').split('\n').filter(Boolean);
for (let i = 0; i < lines.length; i += 1000) await p.send(topic, lines.slice(i, i + 1000).map((value, j) => ({ key: String((i + j) % 7), value, headers: { 'weblog-source': 'x.log', 'weblog-offset': String(i + j) } })));
await p.close(); console.log('produced', lines.length);
