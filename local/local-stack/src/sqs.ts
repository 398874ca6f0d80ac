import type { RunningSqsEmulator } from '@lead-intake/sqs-emulator';
import type { QueueDefinition } from './service-config';

/** A queue's local URL and ARN, by logical id. */
export type LocalQueues = Map<string, { url: string; arn: string; name: string }>;

const ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'MaximumMessageSize',
] as const;

/**
 * Creates each queue in the SQS emulator from its CloudFormation properties, as the deploy
 * declares it: its name, timeouts and redrive policy (the dead-letter queue named by GetAtt).
 * Encryption settings have no local meaning and are left out.
 */
export function createQueues(emu: RunningSqsEmulator, queues: QueueDefinition[]): LocalQueues {
  const out: LocalQueues = new Map();
  // Dead-letter queues first: a redrive policy names one by its ARN.
  const ordered = [...queues].sort((a, b) => Number(Boolean(a.properties.RedrivePolicy)) - Number(Boolean(b.properties.RedrivePolicy)));
  for (const { logicalId, properties: p } of ordered) {
    if (typeof p.QueueName !== 'string') throw new Error(`Queue ${logicalId} needs a literal QueueName to run locally.`);
    const attributes: Record<string, string> = {};
    for (const a of ATTRIBUTES) if (p[a] !== undefined) attributes[a] = String(p[a]);
    if (p.RedrivePolicy) {
      const target = p.RedrivePolicy.deadLetterTargetArn;
      const ref = Array.isArray(target?.['Fn::GetAtt']) ? target['Fn::GetAtt'][0] : undefined;
      const arn = typeof target === 'string' ? target : ref ? out.get(ref)?.arn : undefined;
      if (!arn) throw new Error(`Queue ${logicalId}: its dead-letter queue must be a queue of the same service (Fn::GetAtt [<id>, Arn]).`);
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: Number(p.RedrivePolicy.maxReceiveCount) });
    }
    const url = emu.createQueue(p.QueueName, attributes);
    out.set(logicalId, { url, arn: emu.queue(p.QueueName)!.arn, name: p.QueueName });
  }
  return out;
}
