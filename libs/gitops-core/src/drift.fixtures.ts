// Real objects captured from kube-apiserver v1.35 (kwok cluster): a Deployment applied by
// Capstan (field manager `capstan`, server-side apply), then changed by others. Keep them raw:
// the comparison must work on exactly what the API server returns.
import type { KubeObject } from './objects.js';
import type { WatchedObject } from './drift.js';

export const desiredDeployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'capture',
    labels: {
      app: 'web',
      'capstan.dev/sync-name': 's',
      'capstan.dev/sync-namespace': 'default',
    },
  },
  spec: {
    replicas: 3,
    selector: {
      matchLabels: {
        app: 'web',
      },
    },
    template: {
      metadata: {
        labels: {
          app: 'web',
        },
      },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            ports: [
              {
                containerPort: 80,
              },
            ],
            resources: {
              requests: {
                cpu: '0.5',
              },
            },
          },
        ],
      },
    },
  },
};

/** Right after Capstan applied it: cpu "0.5" reads back as "500m", ports gained protocol TCP. */
export const appliedDeployment: WatchedObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    annotations: {
      'deployment.kubernetes.io/revision': '1',
    },
    creationTimestamp: '2026-11-22T03:59:42.000Z',
    generation: 1,
    labels: {
      app: 'web',
      'capstan.dev/sync-name': 's',
      'capstan.dev/sync-namespace': 'default',
    },
    managedFields: [
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:app': {},
              'f:capstan.dev/sync-name': {},
              'f:capstan.dev/sync-namespace': {},
            },
          },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': {
                'f:labels': {
                  'f:app': {},
                },
              },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      'k:{"containerPort":80,"protocol":"TCP"}': {
                        '.': {},
                        'f:containerPort': {},
                      },
                    },
                    'f:resources': {
                      'f:requests': {
                        'f:cpu': {},
                      },
                    },
                  },
                },
              },
            },
          },
        },
        manager: 'capstan',
        operation: 'Apply',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': {
              '.': {},
              'f:deployment.kubernetes.io/revision': {},
            },
          },
          'f:status': {
            'f:conditions': {
              '.': {},
              'k:{"type":"Progressing"}': {
                '.': {},
                'f:lastTransitionTime': {},
                'f:lastUpdateTime': {},
                'f:message': {},
                'f:reason': {},
                'f:status': {},
                'f:type': {},
              },
            },
          },
        },
        manager: 'kube-controller-manager',
        operation: 'Update',
        subresource: 'status',
        time: '2026-11-22T03:59:42.000Z',
      },
    ],
    name: 'web',
    namespace: 'capture',
    resourceVersion: '238',
    uid: '81d25e4b-c3d0-4cf4-813b-ac968462a08e',
  },
  spec: {
    replicas: 3,
    selector: {
      matchLabels: {
        app: 'web',
      },
    },
    template: {
      metadata: {
        labels: {
          app: 'web',
        },
      },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            ports: [
              {
                containerPort: 80,
                protocol: 'TCP',
              },
            ],
            resources: {
              requests: {
                cpu: '500m',
              },
            },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        securityContext: {},
        schedulerName: 'default-scheduler',
      },
    },
    strategy: {
      type: 'RollingUpdate',
      rollingUpdate: {
        maxUnavailable: '25%',
        maxSurge: '25%',
      },
    },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  },
  status: {
    conditions: [
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: '2026-11-22T03:59:42Z',
        lastTransitionTime: '2026-11-22T03:59:42Z',
        reason: 'NewReplicaSetCreated',
        message: 'Created new replica set "web-855ff4bb89"',
      },
    ],
  },
};

/** `kubectl` server-side applied spec.replicas=5 with force: it took the field from Capstan. */
export const scaledByKubectl: WatchedObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    annotations: {
      'deployment.kubernetes.io/revision': '1',
    },
    creationTimestamp: '2026-11-22T03:59:42.000Z',
    generation: 2,
    labels: {
      app: 'web',
      'capstan.dev/sync-name': 's',
      'capstan.dev/sync-namespace': 'default',
    },
    managedFields: [
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:app': {},
              'f:capstan.dev/sync-name': {},
              'f:capstan.dev/sync-namespace': {},
            },
          },
          'f:spec': {
            'f:selector': {},
            'f:template': {
              'f:metadata': {
                'f:labels': {
                  'f:app': {},
                },
              },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      'k:{"containerPort":80,"protocol":"TCP"}': {
                        '.': {},
                        'f:containerPort': {},
                      },
                    },
                    'f:resources': {
                      'f:requests': {
                        'f:cpu': {},
                      },
                    },
                  },
                },
              },
            },
          },
        },
        manager: 'capstan',
        operation: 'Apply',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:spec': {
            'f:replicas': {},
          },
        },
        manager: 'kubectl',
        operation: 'Apply',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': {
              '.': {},
              'f:deployment.kubernetes.io/revision': {},
            },
          },
          'f:status': {
            'f:conditions': {
              '.': {},
              'k:{"type":"Progressing"}': {
                '.': {},
                'f:lastTransitionTime': {},
                'f:lastUpdateTime': {},
                'f:message': {},
                'f:reason': {},
                'f:status': {},
                'f:type': {},
              },
            },
          },
        },
        manager: 'kube-controller-manager',
        operation: 'Update',
        subresource: 'status',
        time: '2026-11-22T03:59:42.000Z',
      },
    ],
    name: 'web',
    namespace: 'capture',
    resourceVersion: '250',
    uid: '81d25e4b-c3d0-4cf4-813b-ac968462a08e',
  },
  spec: {
    replicas: 5,
    selector: {
      matchLabels: {
        app: 'web',
      },
    },
    template: {
      metadata: {
        labels: {
          app: 'web',
        },
      },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            ports: [
              {
                containerPort: 80,
                protocol: 'TCP',
              },
            ],
            resources: {
              requests: {
                cpu: '500m',
              },
            },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        securityContext: {},
        schedulerName: 'default-scheduler',
      },
    },
    strategy: {
      type: 'RollingUpdate',
      rollingUpdate: {
        maxUnavailable: '25%',
        maxSurge: '25%',
      },
    },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  },
  status: {
    conditions: [
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: '2026-11-22T03:59:42Z',
        lastTransitionTime: '2026-11-22T03:59:42Z',
        reason: 'NewReplicaSetCreated',
        message: 'Created new replica set "web-855ff4bb89"',
      },
    ],
  },
};

/** `kubectl-edit` (Update) changed the container image and added a label `team`. */
export const imageEditedAndLabelAdded: WatchedObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    annotations: {
      'deployment.kubernetes.io/revision': '1',
    },
    creationTimestamp: '2026-11-22T03:59:42.000Z',
    generation: 4,
    labels: {
      app: 'web',
      'capstan.dev/sync-name': 's',
      'capstan.dev/sync-namespace': 'default',
      team: 'a',
    },
    managedFields: [
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:app': {},
              'f:capstan.dev/sync-name': {},
              'f:capstan.dev/sync-namespace': {},
            },
          },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': {
                'f:labels': {
                  'f:app': {},
                },
              },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:name': {},
                    'f:ports': {
                      'k:{"containerPort":80,"protocol":"TCP"}': {
                        '.': {},
                        'f:containerPort': {},
                      },
                    },
                    'f:resources': {
                      'f:requests': {
                        'f:cpu': {},
                      },
                    },
                  },
                },
              },
            },
          },
        },
        manager: 'capstan',
        operation: 'Apply',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': {
              '.': {},
              'f:deployment.kubernetes.io/revision': {},
            },
          },
          'f:status': {
            'f:availableReplicas': {},
            'f:conditions': {
              '.': {},
              'k:{"type":"Available"}': {
                '.': {},
                'f:lastTransitionTime': {},
                'f:lastUpdateTime': {},
                'f:message': {},
                'f:reason': {},
                'f:status': {},
                'f:type': {},
              },
              'k:{"type":"Progressing"}': {
                '.': {},
                'f:lastTransitionTime': {},
                'f:lastUpdateTime': {},
                'f:message': {},
                'f:reason': {},
                'f:status': {},
                'f:type': {},
              },
            },
            'f:observedGeneration': {},
            'f:readyReplicas': {},
            'f:replicas': {},
            'f:terminatingReplicas': {},
            'f:unavailableReplicas': {},
            'f:updatedReplicas': {},
          },
        },
        manager: 'kube-controller-manager',
        operation: 'Update',
        subresource: 'status',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:team': {},
            },
          },
          'f:spec': {
            'f:template': {
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    'f:image': {},
                  },
                },
              },
            },
          },
        },
        manager: 'kubectl-edit',
        operation: 'Update',
        time: '2026-11-22T03:59:42.000Z',
      },
    ],
    name: 'web',
    namespace: 'capture',
    resourceVersion: '275',
    uid: '81d25e4b-c3d0-4cf4-813b-ac968462a08e',
  },
  spec: {
    replicas: 3,
    selector: {
      matchLabels: {
        app: 'web',
      },
    },
    template: {
      metadata: {
        labels: {
          app: 'web',
        },
      },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.28',
            ports: [
              {
                containerPort: 80,
                protocol: 'TCP',
              },
            ],
            resources: {
              requests: {
                cpu: '500m',
              },
            },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        securityContext: {},
        schedulerName: 'default-scheduler',
      },
    },
    strategy: {
      type: 'RollingUpdate',
      rollingUpdate: {
        maxUnavailable: '25%',
        maxSurge: '25%',
      },
    },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  },
  status: {
    observedGeneration: 2,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    unavailableReplicas: 2,
    terminatingReplicas: 0,
    conditions: [
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: '2026-11-22T03:59:42Z',
        lastTransitionTime: '2026-11-22T03:59:42Z',
        reason: 'NewReplicaSetCreated',
        message: 'Created new replica set "web-855ff4bb89"',
      },
      {
        type: 'Available',
        status: 'False',
        lastUpdateTime: '2026-11-22T03:59:42Z',
        lastTransitionTime: '2026-11-22T03:59:42Z',
        reason: 'MinimumReplicasUnavailable',
        message: 'Deployment does not have minimum availability.',
      },
    ],
  },
};

/** Only labels nobody in Git set, and the controller's status: no drift. */
export const onlyLabelAddedAndStatus: WatchedObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    annotations: {
      'deployment.kubernetes.io/revision': '3',
    },
    creationTimestamp: '2026-11-22T03:59:42.000Z',
    generation: 5,
    labels: {
      app: 'web',
      'capstan.dev/sync-name': 's',
      'capstan.dev/sync-namespace': 'default',
      owner: 'ops',
      team: 'a',
    },
    managedFields: [
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:app': {},
              'f:capstan.dev/sync-name': {},
              'f:capstan.dev/sync-namespace': {},
            },
          },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': {
                'f:labels': {
                  'f:app': {},
                },
              },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      'k:{"containerPort":80,"protocol":"TCP"}': {
                        '.': {},
                        'f:containerPort': {},
                      },
                    },
                    'f:resources': {
                      'f:requests': {
                        'f:cpu': {},
                      },
                    },
                  },
                },
              },
            },
          },
        },
        manager: 'capstan',
        operation: 'Apply',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': {
              '.': {},
              'f:deployment.kubernetes.io/revision': {},
            },
          },
          'f:status': {
            'f:availableReplicas': {},
            'f:conditions': {
              '.': {},
              'k:{"type":"Available"}': {
                '.': {},
                'f:lastTransitionTime': {},
                'f:lastUpdateTime': {},
                'f:message': {},
                'f:reason': {},
                'f:status': {},
                'f:type': {},
              },
              'k:{"type":"Progressing"}': {
                '.': {},
                'f:lastTransitionTime': {},
                'f:lastUpdateTime': {},
                'f:message': {},
                'f:reason': {},
                'f:status': {},
                'f:type': {},
              },
            },
            'f:observedGeneration': {},
            'f:readyReplicas': {},
            'f:replicas': {},
            'f:terminatingReplicas': {},
            'f:updatedReplicas': {},
          },
        },
        manager: 'kube-controller-manager',
        operation: 'Update',
        subresource: 'status',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:team': {},
            },
          },
        },
        manager: 'kubectl-edit',
        operation: 'Update',
        time: '2026-11-22T03:59:42.000Z',
      },
      {
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:owner': {},
            },
          },
        },
        manager: 'kubectl-label',
        operation: 'Update',
        time: '2026-11-22T03:59:42.000Z',
      },
    ],
    name: 'web',
    namespace: 'capture',
    resourceVersion: '319',
    uid: '81d25e4b-c3d0-4cf4-813b-ac968462a08e',
  },
  spec: {
    replicas: 3,
    selector: {
      matchLabels: {
        app: 'web',
      },
    },
    template: {
      metadata: {
        labels: {
          app: 'web',
        },
      },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            ports: [
              {
                containerPort: 80,
                protocol: 'TCP',
              },
            ],
            resources: {
              requests: {
                cpu: '500m',
              },
            },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        securityContext: {},
        schedulerName: 'default-scheduler',
      },
    },
    strategy: {
      type: 'RollingUpdate',
      rollingUpdate: {
        maxUnavailable: '25%',
        maxSurge: '25%',
      },
    },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  },
  status: {
    observedGeneration: 5,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    terminatingReplicas: 0,
    conditions: [
      {
        type: 'Available',
        status: 'True',
        lastUpdateTime: '2026-11-22T03:59:42Z',
        lastTransitionTime: '2026-11-22T03:59:42Z',
        reason: 'MinimumReplicasAvailable',
        message: 'Deployment has minimum availability.',
      },
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: '2026-11-22T03:59:42Z',
        lastTransitionTime: '2026-11-22T03:59:42Z',
        reason: 'NewReplicaSetAvailable',
        message: 'ReplicaSet "web-855ff4bb89" has successfully progressed.',
      },
    ],
  },
};
