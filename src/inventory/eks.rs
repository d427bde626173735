//! EKS clusters of the scanned regions (ListClusters, DescribeCluster). Owned by the EKS/roles work.
