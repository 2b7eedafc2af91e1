/** The sample application the demo commits: plain YAML, several documents, nested folders. */
export const demoApp: Record<string, string> = {
  'apps/hello/namespace.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: demo
`,
  'apps/hello/web/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello-web
  namespace: demo
  labels: {app: hello-web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello-web}
  template:
    metadata:
      labels: {app: hello-web}
    spec:
      containers:
        - name: web
          image: ghcr.io/example/hello-web:1.0.0
          ports: [{containerPort: 8080}]
`,
  'apps/hello/web/service.yaml': `apiVersion: v1
kind: Service
metadata:
  name: hello-web
  namespace: demo
spec:
  selector: {app: hello-web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: hello-web-config
  namespace: demo
data:
  GREETING: "hello from Capstan"
`,
  'README.md': '# demo config repository\n',
};
