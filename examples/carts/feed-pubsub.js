// Creates a topic and a subscription on the Pub/Sub emulator (PUBSUB_EMULATOR_HOST) and publishes a recording's messages.
// usage: PUBSUB_EMULATOR_HOST=127.0.0.1:8085 node feed-pubsub.js PROJECT TOPIC SUBSCRIPTION RECORDING.jsonl
// Uses the official Node client installed in tools/pubsub (cd tools/pubsub && npm ci).
const fs = require('fs');
const path = require('path');
const { PubSub } = require(path.join(__dirname, '..', '..', 'tools', 'pubsub', 'node_modules', '@google-cloud', 'pubsub'));
const [project, topicName, subscriptionName, recording] = process.argv.slice(2);
if (!recording) { console.error('usage: node feed-pubsub.js PROJECT TOPIC SUBSCRIPTION RECORDING.jsonl'); process.exit(2); }

(async () => {
  const pubsub = new PubSub({ projectId: project });
  const topic = pubsub.topic(topicName);
  const [exists] = await topic.exists();
  if (!exists) await topic.create();
  const subscription = topic.subscription(subscriptionName);
  const [subscribed] = await subscription.exists();
  if (!subscribed) await subscription.create(); // before publishing: a subscription receives what is published after it
  const messages = fs.readFileSync(recording, 'utf8').split('\n').filter(l => l.trim()).map(l => JSON.parse(l));
  for (const m of messages)
    await topic.publishMessage({ data: Buffer.from(m.payload), attributes: Object.fromEntries(headerPairs(m.headers)) });
  console.log(`published ${messages.length} messages to ${topicName}`);
  process.exit(0);
})().catch(e => { console.error(e.message); process.exit(1); });

function* headerPairs(headers) {
  for (let i = 0; headers && i + 1 < headers.length; i += 2) yield [headers[i], headers[i + 1]];
}
