// Publishes messages with the official client to PUBSUB_EMULATOR_HOST; prints "published N" when all are acknowledged.
// usage: PUBSUB_EMULATOR_HOST=host:port node publish.js PROJECT TOPIC COUNT
// Message i: {"id": i, "name": "node i"} with attributes {type: "User", source: "node"}; every 10th has type "Other".
const { PubSub } = require('@google-cloud/pubsub');
const [project, topicName, count] = process.argv.slice(2);
(async () => {
  const topic = new PubSub({ projectId: project }).topic(topicName, { batching: { maxMessages: 100, maxMilliseconds: 10 } });
  const sends = [];
  for (let i = 1; i <= +count; i++)
    sends.push(topic.publishMessage({
      data: Buffer.from(JSON.stringify({ id: i, name: `node ${i}` })),
      attributes: { type: i % 10 === 0 ? 'Other' : 'User', source: 'node' },
    }));
  await Promise.all(sends);
  console.log('published ' + sends.length);
  process.exit(0);
})().catch(e => { console.error(e); process.exit(1); });
