"""AWS access: sessions and clients, the one CloudFormation gateway, the S3 template store.

Nothing is imported here, so importing the package stays cheap (boto3 loads lazily).
"""
